"""The one exception a ballot check raises, and strict readers for received JSON.

A check that fails names itself (`check`, a stable machine name the API puts in its
problem details) and says what was wrong (`str(error)`, for people), so the server can
answer a 4xx naming the failed check and the verifier can name the first failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Check = Literal[
    "encoding",  # not a canonical point, scalar, hex string or JSON shape
    "shape",  # wrong number of choices, proofs, branches or shares for the question
    "selection",  # a plaintext selection breaks the question's rule (client side)
    "range",  # an option's proof that its choice is 0 or 1
    "overall",  # a question's proof that the selection obeys min..max or the budget
    "reveal",  # an audited ballot's revealed m and r do not give its ciphertexts
    "pok",  # a trustee's proof of knowledge of a_i0
    "share",  # a trustee's share f_i(j) does not match the dealer's commitments
    "dleq",  # a decryption share's proof
    "threshold",  # fewer decryption shares than t
    "count",  # a decrypted sum is not count·G for any count in [0, total weight]
]

_HEX = re.compile(r"[0-9a-f]*")


class CheckFailed(ValueError):
    def __init__(self, check: Check, reason: str) -> None:
        super().__init__(reason)
        self.check: Check = check


class EncodingError(CheckFailed):
    def __init__(self, reason: str) -> None:
        super().__init__("encoding", reason)


def hex_bytes(text: object, length: int, what: str) -> bytes:
    """Lower-case hex of exactly `length` bytes: the only spelling the record allows."""
    if not isinstance(text, str) or len(text) != 2 * length or not _HEX.fullmatch(text):
        raise EncodingError(f"{what} must be {2 * length} lower-case hex digits")
    return bytes.fromhex(text)


def digest(text: object, what: str = "fingerprint") -> bytes:
    """A SHA-256 fingerprint (F, F0) from its hex; the hashes take the 32 raw bytes."""
    return hex_bytes(text, 32, what)


def as_object(value: object, keys: Sequence[str], what: str) -> Mapping[str, Any]:
    """A JSON object with exactly these keys (extra keys would change the tracking code)."""
    if not isinstance(value, Mapping) or set(value) != set(keys):
        raise EncodingError(f"{what} must be an object with exactly the keys {', '.join(sorted(keys))}")
    return value


def as_list(value: object, what: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise EncodingError(f"{what} must be a list")
    return value
