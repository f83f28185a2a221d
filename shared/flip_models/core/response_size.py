"""What a body costs in Lambda's response (SPEC §4): Lambda measures the whole response object as JSON
(6,291,456 bytes at most), so the body counts as the JSON string it becomes there, quotes and
backslashes escaped, not as the text the route wrote.

The measure is ``json.dumps``' default form (ASCII, every other character escaped as ``\\uXXXX``):
of the Python runtimes' two forms (3.12 and later send other characters as UTF-8) it is never the
smaller, so a body that fits by it fits by either. It also bounds the body's own UTF-8 size.
"""

from __future__ import annotations

import json


def escaped_size(json_text: str | bytes) -> int:
    """Bytes ``json_text`` (a JSON text or a part of one, UTF-8 when bytes) takes inside Lambda's
    response JSON as (part of) a string, without the two quotes around it. JSON escapes character
    by character, so the sizes of parts add up.

    A JSON text holds no raw control character (its strings escape them), so an ASCII one grows
    only by its quotes and backslashes (one byte each) and its DEL characters (``\\u007f``: five),
    counted without copying it; any other is measured exactly.
    """
    if isinstance(json_text, bytes):
        if json_text.isascii():
            grows = json_text.count(b'"') + json_text.count(b"\\") + 5 * json_text.count(b"\x7f")
            return len(json_text) + grows
        json_text = json_text.decode()
    elif json_text.isascii():
        return len(json_text) + json_text.count('"') + json_text.count("\\") + 5 * json_text.count("\x7f")
    return len(json.dumps(json_text)) - 2


#: How a text cut to fit a response ends (logs and the models list alike).
CUT_NOTE = " … [{rest} more characters not shown]"
#: Escaped into Lambda's response, a character takes at most this many bytes (an astral one, as
#: ``\\ud83d\\ude00`` escaped once more).
MAX_BYTES_PER_CHARACTER = 12


def cut_text(text: str, keep: int) -> str:
    """``text`` whole when it has at most ``keep`` characters, else its first ``keep`` and the note."""
    return text if len(text) <= keep else text[:keep] + CUT_NOTE.format(rest=len(text) - keep)
