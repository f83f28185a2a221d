"""What a body costs once escaped into Lambda's response (SPEC §4): ``escaped_size`` is exact."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from flip_models.core.response_size import escaped_size

#: JSON values whose texts hold every kind of character: ASCII, quotes, backslashes, control
#: characters, two-byte, three-byte and astral ones, line separators.
VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(values=st.lists(VALUES, min_size=1, max_size=4), ascii_only=st.booleans())
def test_the_size_is_that_of_the_text_as_json_dumps_escapes_it_and_parts_add_up(
    values: list[object], ascii_only: bool
) -> None:
    texts = [json.dumps(value, ensure_ascii=ascii_only) for value in values]  # as routes write bodies
    whole = ",".join(texts)

    expected = len(json.dumps(whole)) - 2
    assert escaped_size(whole) == escaped_size(whole.encode()) == expected
    assert sum(escaped_size(part) for part in texts) + len(texts) - 1 == expected
    assert len(whole.encode()) <= expected  # and it bounds the body's own size
