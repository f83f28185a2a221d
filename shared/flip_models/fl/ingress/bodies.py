"""Step 2, the body: one JSON object within SQS's limit, validated by the queue message's own model
(a 422 in FastAPI's shape names each field at fault), holding only text PostgreSQL can store."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping, Sequence
from email.message import Message
from http import HTTPStatus
from typing import Any, Final

from pydantic import ValidationError

from flip_models.fl.ingress.answers import IngressAnswer, invalid

#: SQS's own limit on a message: a request body larger than this is refused before it is read.
MAX_BODY_BYTES: Final = 262_144


def _is_json(content_type: str | None) -> bool:
    """FastAPI's rule: no content type, or ``application/json`` or ``application/*+json``."""
    if not content_type:
        return True
    parsed = Message()
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def read_body(body: str | None, base64_encoded: bool, content_type: str | None) -> dict[str, Any]:
    """The request's JSON object, or a 413 (over SQS's limit) or a 422 (missing, not JSON, not an
    object, not sent as JSON)."""
    if body is None or body == "":
        raise invalid((["body"], "Field required", "missing"))
    raw = body.encode("utf-8", errors="surrogatepass")
    if base64_encoded:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise invalid((["body"], "body is not valid base64", "value_error")) from None
    if len(raw) > MAX_BODY_BYTES:
        raise IngressAnswer(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"Request body too large: {len(raw)} bytes, at most {MAX_BODY_BYTES} (an FL message's limit).",
        )
    if not _is_json(content_type):
        raise invalid(
            (["body"], "send the body as JSON (Content-Type: application/json)", "model_attributes_type")
        )
    try:
        parsed = json.loads(raw)
    except RecursionError:
        raise invalid((["body"], "nested too deeply", "json_invalid")) from None
    except ValueError as error:
        raise invalid((["body"], f"JSON decode error: {str(error)[:80]}", "json_invalid")) from None
    if not isinstance(parsed, dict):
        raise invalid((["body"], "Input should be a valid dictionary or object", "model_attributes_type"))
    return parsed


def validation_issues(error: ValidationError, path_fields: Mapping[str, Sequence[str]]) -> IngressAnswer:
    """A 422 naming each field at fault: a path field as FLIP names it, the others in the body; a
    rule of SPEC §5 (``"field: rule"``) names its field(s) in its text."""
    issues: list[tuple[Sequence[str | int], str, str]] = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        message = str(item["msg"])
        fields: list[Sequence[str | int]] = [
            [str(part) if isinstance(part, str) else part for part in item["loc"]]
        ]
        if item["type"] == "fl_message_rule" and ": " in message:
            fields = [[name.strip()] for name in message.split(": ", 1)[0].split(",")]
        for loc in fields:
            head = str(loc[0]) if loc else ""
            where = list(path_fields[head]) if head in path_fields else ["body", *loc]
            issues.append((where, message, str(item["type"])))
    return invalid(*issues)


def storable_problem(
    value: Any, path: tuple[str | int, ...] = ()
) -> tuple[tuple[str | int, ...], str] | None:
    """Text PostgreSQL cannot store (a NUL character, a lone surrogate) anywhere in ``value``: its
    place and why, or None. Such a message would only be dead-lettered by its consumer."""
    if isinstance(value, str):
        if "\x00" in value:
            return path, "text must not contain a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "text must be valid Unicode (a lone surrogate)"
        return None
    items: Iterator[tuple[str | int, Any]]
    if isinstance(value, Mapping):
        for key in value:
            if (problem := storable_problem(str(key), (*path, str(key)))) is not None:
                return problem
        items = ((str(key), item) for key, item in value.items())
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if (problem := storable_problem(item, (*path, key))) is not None:
            return problem
    return None
