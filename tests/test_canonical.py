"""Canonical JSON as shared/BALLOTS.md defines it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from council.canonical import canonical_bytes


def test_keys_sorted_no_spaces_nfc() -> None:
    assert canonical_bytes({"b": 1, "a": ["e\u0301"]}) == '{"a":["é"],"b":1}'.encode()


def test_floats_and_colliding_keys_are_refused() -> None:
    with pytest.raises(TypeError):
        canonical_bytes({"a": 1.5})
    with pytest.raises(ValueError):
        canonical_bytes({"e\u0301": 1, "é": 2})


@given(st.dictionaries(st.text(max_size=5), st.integers(), max_size=5))
def test_order_of_insertion_does_not_matter(data: dict[str, int]) -> None:
    try:
        forward = canonical_bytes(data)
    except ValueError:
        return
    assert canonical_bytes(dict(reversed(list(data.items())))) == forward
