"""Canonical JSON (shared/BALLOTS.md): sorted keys, no white space, UTF-8, integers only, NFC.

Pure: the audit log, the ballot board and the independent verifier all use it.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        raise TypeError("canonical JSON allows integers only, not floats")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = unicodedata.normalize("NFC", str(key))
            if name in out:
                raise ValueError(f"two keys are the same after NFC normalisation: {name!r}")
            out[name] = _normalise(item)
        return out
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    raise TypeError(f"cannot put {type(value).__name__} in canonical JSON")


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
