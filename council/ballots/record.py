"""The election record, council/v1 (shared/BALLOTS.md, "Record format"): plain JSON and pure functions.

A record is three JSON documents: the manifest, the board (a list of entries) and the
result, written as `manifest.json`, `board.jsonl` and `result.json` in one zip. Here:
the manifest with its fingerprints, the hash-chained board, the entry payloads, the
result document and the zip (the outcome rules are in rules.py). No web or database code.

Fingerprints. F₀ = SHA-256(canonical {version, ballot_id, title, secrecy, questions, rule,
weight_basis, t, n, trustees: [{index, name, box_key}]}); F = SHA-256(canonical manifest
without `fingerprint`). Both are stored as hex and enter every hash as their 32 raw bytes.

The board chain. Entry k is {seq: k, kind, payload, prev, hash}; the first prev is F,
each later prev is the previous entry's hash, and

    hash = SHA-256(raw32(prev) ‖ canonical(payload))

where raw32(prev) is the 32 bytes the 64 hex digits of prev spell, not their ASCII text.
That is how the scheme treats every digest inside a hash (F₀ and F enter the proofs'
challenges as 32 raw bytes, fixed by the known-answer vectors; checks.digest), and the
first prev *is* F. The audit log (council/audit/service.py) hashes the ASCII hex of its
previous hash instead: it is a separate chain with its own genesis and never mixes with
a board. seq and kind are outside the hash, as the spec says; each kind has its own set
of payload keys, so the verifier checks the kind against the payload (`kind_of`) and the
seq against the position.

Kinds and payloads: `ballot` {alias, answers, cast_at}; `audited` {alias, answers, reveal,
cast_at}; `vote` (open ballots) {alias, voter_name, choices: per question the 0/1 mark of
each option, cast_at}; `close` {closed_at}; `share` {trustee, shares: per question, per
option {D, c, s}}; `result` {counts, outcome}. An open ballot's manifest has t = n = 0, no
trustees, public_key null and verification_keys {}.

result.json: {counted: the aliases whose last ballot before the close counts, in roster
order; sums: [[{A, B}]]; shares: the share payloads in board order; counts; turnout:
{weight_cast, weight_eligible}; outcome; head: the hash of the last entry (the result)}.
The manifest's `rule` and the result's `outcome` are described in council/ballots/rules.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from council.ballots import keys
from council.ballots.checks import as_list, as_object, digest
from council.ballots.encrypt import Ciphertext, QuestionShape
from council.ballots.group import Point
from council.ballots.keys import Dealing
from council.ballots.rules import check_rule, is_int
from council.ballots.tally import Sums
from council.canonical import canonical_bytes

Json = dict[str, Any]

VERSION: Final = "council/v1"
PARAMETER_KEYS: Final = (
    "version",
    "ballot_id",
    "title",
    "secrecy",
    "questions",
    "rule",
    "weight_basis",
    "t",
    "n",
)
MANIFEST_KEYS: Final = frozenset(
    {
        *PARAMETER_KEYS,
        "trustees",
        "F0",
        "public_key",
        "verification_keys",
        "roster",
        "opens_at",
        "closes_at",
        "fingerprint",
    }
)
QUESTION_KEYS: Final = ("text", "options", "min", "max", "costs", "budget")
RESULT_KEYS: Final = frozenset({"counted", "sums", "shares", "counts", "turnout", "outcome", "head"})
PAYLOAD_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "ballot": frozenset({"alias", "answers", "cast_at"}),
    "audited": frozenset({"alias", "answers", "reveal", "cast_at"}),
    "vote": frozenset({"alias", "voter_name", "choices", "cast_at"}),
    "close": frozenset({"closed_at"}),
    "share": frozenset({"trustee", "shares"}),
    "result": frozenset({"counts", "outcome"}),
}
MEMBERS: Final = ("manifest.json", "board.jsonl", "result.json")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# Manifest ------------------------------------------------------------------------------


def question_shapes(questions: object) -> list[QuestionShape]:
    """The manifest's questions as shapes; ValueError says what is malformed."""
    if not isinstance(questions, list) or not questions:
        raise ValueError("questions must be a non-empty list")
    shapes: list[QuestionShape] = []
    for q, question in enumerate(questions):
        if not isinstance(question, dict) or set(question) != set(QUESTION_KEYS):
            raise ValueError(f"questions[{q}] must have exactly the keys {', '.join(QUESTION_KEYS)}")
        options = question["options"]
        if not isinstance(question["text"], str) or not isinstance(options, list):
            raise ValueError(f"questions[{q}]: text is a string and options a list")
        if not all(isinstance(o, str) for o in options) or not is_int(question["min"]):
            raise ValueError(f"questions[{q}]: options are strings, min and max integers")
        costs, budget = question["costs"], question["budget"]
        if not is_int(question["max"]) or (costs is not None and not isinstance(costs, list)):
            raise ValueError(f"questions[{q}]: min and max are integers, costs a list or null")
        if (costs is not None and not all(is_int(c) for c in costs)) or not (
            budget is None or is_int(budget)
        ):
            raise ValueError(f"questions[{q}]: costs and budget are integers")
        try:
            shapes.append(QuestionShape.from_json(question))
        except ValueError as error:
            raise ValueError(f"questions[{q}]: {error}") from None
    return shapes


def check_parameters(params: Mapping[str, Any]) -> None:
    """The parameters F₀ hashes, as a ValueError naming the first bad field."""
    if params.get("version") != VERSION:
        raise ValueError(f"version must be {VERSION!r}")
    if not (is_int(params["ballot_id"]) or isinstance(params["ballot_id"], str)):
        raise ValueError("ballot_id is an integer or a string")
    if not isinstance(params["title"], str):
        raise ValueError("title is a string")
    if params["secrecy"] not in ("secret", "open") or params["weight_basis"] not in ("resident", "household"):
        raise ValueError('secrecy is "secret" or "open", weight_basis "resident" or "household"')
    check_rule(params["rule"], question_shapes(params["questions"]))
    t, n, trustees = params["t"], params["n"], params["trustees"]
    if not is_int(t) or not is_int(n) or not isinstance(trustees, list):
        raise ValueError("t and n are integers and trustees a list")
    if params["secrecy"] == "open" and (t, n, trustees) != (0, 0, []):
        raise ValueError("an open ballot has no trustees (t = n = 0)")
    if params["secrecy"] == "secret" and not 1 <= t <= n:
        raise ValueError("a secret ballot needs 1 ≤ t ≤ n trustees")
    if len(trustees) != n or [tr.get("index") if isinstance(tr, dict) else None for tr in trustees] != list(
        range(1, n + 1)
    ):
        raise ValueError("trustees are listed by index 1..n")
    for trustee in trustees:
        if not isinstance(trustee["name"], str):
            raise ValueError(f"trustee {trustee['index']}: name is a string")
        digest(trustee["box_key"], f"trustee {trustee['index']}: box_key")


def check_roster(roster: object) -> dict[str, int]:
    """{alias: weight} from [{alias, weight}]: distinct NFC aliases, whole weights ≥ 1."""
    if not isinstance(roster, list):
        raise ValueError("roster must be a list")
    weights: dict[str, int] = {}
    for k, row in enumerate(roster):
        if not isinstance(row, dict) or set(row) != {"alias", "weight"}:
            raise ValueError(f"roster[{k}] must be {{alias, weight}}")
        alias, weight = row["alias"], row["weight"]
        if not isinstance(alias, str) or not alias or unicodedata.normalize("NFC", alias) != alias:
            raise ValueError(f"roster[{k}]: the alias is a non-empty NFC string")
        if not is_int(weight) or weight < 1 or alias in weights:
            raise ValueError(f"roster[{k}]: {alias!r} appears twice or its weight is not a whole number ≥ 1")
        weights[alias] = weight
    return weights


def parameters(
    *,
    ballot_id: int | str,
    title: str,
    secrecy: str,
    questions: Sequence[Mapping[str, Any]],
    rule: Mapping[str, Any],
    weight_basis: str,
    t: int,
    n: int,
    trustees: Sequence[Mapping[str, Any]],
) -> Json:
    """What F₀ hashes. Questions are completed with costs and budget null when absent."""
    params: Json = {
        "version": VERSION,
        "ballot_id": ballot_id,
        "title": title,
        "secrecy": secrecy,
        "questions": [{"costs": None, "budget": None, **q} for q in questions],
        "rule": dict(rule),
        "weight_basis": weight_basis,
        "t": t,
        "n": n,
        "trustees": [{"index": tr["index"], "name": tr["name"], "box_key": tr["box_key"]} for tr in trustees],
    }
    check_parameters(params)
    return params


def parameters_of(manifest: Mapping[str, Any]) -> Json:
    """The manifest's part that F₀ hashes."""
    params = {key: manifest[key] for key in PARAMETER_KEYS}
    params["trustees"] = [
        {"index": tr["index"], "name": tr["name"], "box_key": tr["box_key"]} for tr in manifest["trustees"]
    ]
    return params


def f0_of(params: Mapping[str, Any]) -> bytes:
    return sha256(canonical_bytes(params))


def fingerprint_of(manifest: Mapping[str, Any]) -> bytes:
    """F: SHA-256 of the canonical manifest without its `fingerprint` field."""
    return sha256(canonical_bytes({k: v for k, v in manifest.items() if k != "fingerprint"}))


def build_manifest(
    params: Mapping[str, Any],
    *,
    dealings: Sequence[Dealing],
    roster: Sequence[Mapping[str, Any]],
    opens_at: str,
    closes_at: str,
) -> Json:
    """The full manifest from the parameters, the trustees' public dealings and the roster."""
    check_parameters(params)
    check_roster(list(roster))
    f0 = f0_of(params)
    by_index = {d.index: d for d in dealings}
    if sorted(by_index) != [tr["index"] for tr in params["trustees"]]:
        raise ValueError("one dealing per trustee")
    for dealing in dealings:
        keys.verify_commitments(f0, dealing.index, params["t"], dealing.commitments, dealing.pok)
    commitments = {i: d.commitments for i, d in by_index.items()}
    manifest: Json = {
        **params,
        "trustees": [{**tr, **by_index[tr["index"]].to_json()} for tr in params["trustees"]],
        "F0": f0.hex(),
        "public_key": keys.public_key(commitments).hex() if commitments else None,
        "verification_keys": {str(j): v.hex() for j, v in keys.verification_keys(commitments).items()}
        if commitments
        else {},
        "roster": [{"alias": row["alias"], "weight": row["weight"]} for row in roster],
        "opens_at": opens_at,
        "closes_at": closes_at,
    }
    manifest["fingerprint"] = fingerprint_of(manifest).hex()
    return manifest


# Board ---------------------------------------------------------------------------------


def entry_hash(prev: str, payload: Mapping[str, Any]) -> str:
    """SHA-256(raw32(prev) ‖ canonical(payload)) in hex (see the module docstring)."""
    return hashlib.sha256(digest(prev, "prev") + canonical_bytes(payload)).hexdigest()


def kind_of(payload: Mapping[str, Any]) -> str | None:
    """The kind whose payload has exactly these keys."""
    return next((kind for kind, names in PAYLOAD_KEYS.items() if set(payload) == names), None)


class Board:
    """An append-only, hash-chained list of entries {seq, kind, payload, prev, hash}."""

    def __init__(self, fingerprint: str) -> None:
        digest(fingerprint)
        self.fingerprint = fingerprint
        self.entries: list[Json] = []

    @property
    def head(self) -> str:
        """The last entry's hash (F for an empty board)."""
        return self.entries[-1]["hash"] if self.entries else self.fingerprint

    def append(self, kind: str, payload: Mapping[str, Any]) -> Json:
        if kind not in PAYLOAD_KEYS or PAYLOAD_KEYS[kind] != frozenset(payload):
            raise ValueError(f"a {kind!r} entry needs exactly the payload keys of its kind")
        prev = self.head
        entry: Json = {
            "seq": len(self.entries),
            "kind": kind,
            "payload": dict(payload),
            "prev": prev,
            "hash": entry_hash(prev, payload),
        }
        self.entries.append(entry)
        return entry

    @classmethod
    def from_events(cls, fingerprint: str, events: Iterable[tuple[str, Mapping[str, Any]]]) -> Board:
        """A board of these (kind, payload) events, chained afresh."""
        board = cls(fingerprint)
        for kind, payload in events:
            board.append(kind, payload)
        return board


def sums_to_json(sums: Sums) -> list[list[dict[str, str]]]:
    return [[{"A": s.alpha.hex(), "B": s.beta.hex()} for s in row] for row in sums]


def sums_from_json(value: object) -> list[list[Ciphertext]]:
    """[[{A, B}]] per question and option; EncodingError for a bad shape or point."""
    return [
        [
            Ciphertext(
                Point.from_hex(s["A"], f"sums[{q}][{k}].A"), Point.from_hex(s["B"], f"sums[{q}][{k}].B")
            )
            for k, s in enumerate(as_list(row, f"sums[{q}]"))
            if as_object(s, ("A", "B"), f"sums[{q}][{k}]")
        ]
        for q, row in enumerate(as_list(value, "sums"))
    ]


# The record and its zip ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    manifest: Json
    board: list[Json]
    result: Json


class RecordError(ValueError):
    """The record file cannot be read as council/v1 JSON."""


def load_json(data: bytes | str, what: str) -> Any:
    """Strict JSON: no floats, NaN or repeated keys (canonical JSON has none)."""

    def pairs(items: list[tuple[str, Any]]) -> Json:
        out: Json = {}
        for key, value in items:
            if key in out:
                raise RecordError(f"{what}: the key {key!r} appears twice")
            out[key] = value
        return out

    def refuse(text: str) -> Any:
        raise RecordError(f"{what}: {text} is not allowed (integers only)")

    try:
        return json.loads(data, object_pairs_hook=pairs, parse_float=refuse, parse_constant=refuse)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RecordError(f"{what} is not JSON: {error}") from None


def record_bytes(record: Record) -> bytes:
    """The zip, byte for byte the same for the same record."""
    pretty = {"ensure_ascii": False, "indent": 1, "sort_keys": True}
    members = {
        "manifest.json": json.dumps(record.manifest, **pretty).encode() + b"\n",  # type: ignore[arg-type]
        "board.jsonl": b"".join(canonical_bytes(entry) + b"\n" for entry in record.board),
        "result.json": json.dumps(record.result, **pretty).encode() + b"\n",  # type: ignore[arg-type]
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in MEMBERS:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name])
    return buffer.getvalue()


def write_record(record: Record, path: str | os.PathLike[str]) -> None:
    with open(path, "wb") as file:
        file.write(record_bytes(record))


MAX_MEMBER: Final = 1 << 30


def read_record(source: bytes | str | os.PathLike[str]) -> Record:
    """A record from zip bytes or a path; RecordError if it is not a readable council/v1 zip."""
    try:
        if isinstance(source, bytes):
            archive = zipfile.ZipFile(io.BytesIO(source))
        else:
            archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as error:
        raise RecordError(f"not a readable zip: {error}") from None
    with archive:
        names = set(archive.namelist())
        if not set(MEMBERS) <= names:
            raise RecordError("the zip needs " + ", ".join(MEMBERS))
        if any(archive.getinfo(name).file_size > MAX_MEMBER for name in MEMBERS):
            raise RecordError("a member of the zip is too large")
        manifest = load_json(archive.read("manifest.json"), "manifest.json")
        try:
            lines = archive.read("board.jsonl").decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise RecordError("board.jsonl is not UTF-8") from None
        board = [load_json(line, f"board.jsonl line {k + 1}") for k, line in enumerate(lines) if line.strip()]
        result = load_json(archive.read("result.json"), "result.json")
    if (
        not isinstance(manifest, dict)
        or not isinstance(result, dict)
        or not all(isinstance(e, dict) for e in board)
    ):
        raise RecordError("manifest.json, result.json and every board line are JSON objects")
    return Record(manifest, board, result)
