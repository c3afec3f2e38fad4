"""Shared by the ballot tests: the known-answer vectors and a replayable scalar stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from council.ballots.group import Scalar

HERE = Path(__file__).resolve().parent
SHARED_VECTORS = HERE.parents[1].parent / "shared" / "ballot-vectors.json"
LOCAL_VECTORS = HERE / "ballot-vectors.json"

# The vector generator's stand-in for randomness, found by inspecting the vectors: its
# n-th scalar is n·⌊2^64/φ⌋ + 12346, numbered from 1000 on. The trustees' polynomials take
# 1000–1005 (trustee i: 998 + 2i and 999 + 2i), their proofs of knowledge 1006–1008, the
# ballot 1009–1021 (per option r, w, simulated c and s; then the overall w) and the two
# decryption shares' DLEQ proofs 1022 and 1023.
GOLDEN = 0x9E3779B97F4A7C15


def vector_scalar(n: int) -> Scalar:
    return Scalar.of(n * GOLDEN + 12346)


def vector_stream(start: int) -> Iterator[Scalar]:
    n = start
    while True:
        yield vector_scalar(n)
        n += 1


def vectors_path() -> Path:
    """../shared when it exists (the source of truth), else the copy beside the tests."""
    return SHARED_VECTORS if SHARED_VECTORS.exists() else LOCAL_VECTORS


def load_vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(vectors_path().read_text(encoding="utf-8"))
    return data
