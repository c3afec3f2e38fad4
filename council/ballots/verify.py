"""The independent verifier of a council/v1 election record (shared/BALLOTS.md).

    python -m council.ballots.verify RECORD.zip        (wired as `council verify RECORD`)
    python -m council.ballots.verify --audited FILE    (one spoiled ballot: {manifest, audited})

It imports no web or database code and trusts nothing in the record it can recompute.
`verify_record(manifest, board, result)` returns a Report: what passed, in order, and
the FIRST failure, named by a stable check name (Failure.check) and, for an entry of
the board, its seq. The CLI prints the report and exits 0 when everything verifies, 1
naming the first failure (an unreadable file is the failure "record").

The order of the checks, which decides which failure is first:
1. the manifest: its fields ("manifest"), "version", F₀ ("F0"), F ("fingerprint"), every
   trustee's commitments and proof of knowledge ("shape", "pok", "encoding"), Y
   ("public_key") and every V_j ("verification_key");
2. the board, entry by entry in seq order; for each entry first the chain ("chain": seq
   contiguous from 0, prev links back to F, the hash), then its content: the payload's
   keys for its kind ("entry"), a ballot after the close ("after_close"), entries out of
   phase ("order": close, then shares, then the result, last), an alias not on the roster
   ("roster"), a ciphertext repeated from an earlier entry ("duplicate"), then the
   ballot's proofs (encrypt.verify_ballot: "encoding", "shape", "range", "overall") and an
   audited ballot's reveal ("reveal"). The proofs of many ballots are checked in a
   process pool over chunks; the failure with the lowest seq is reported, so the answer
   does not depend on the pool;
3. the result: "result" (its fields), "counted" (the last ballot before the close of
   every alias that voted, audited ballots never, in roster order), "turnout", "sums"
   (the roster-weighted homomorphic sums), "shares" (result.shares as on the board, one
   per trustee), every decryption proof ("dleq"), at least t trustees ("threshold"), the
   Lagrange combination and the counts in [0, weight cast] ("count"), the outcome under
   the rule ("outcome"), and result.head = the board's last hash ("head").
A shape of JSON that none of these foresaw is reported as "malformed", never a crash.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from typing import Any, Final

from council.ballots import keys, tally
from council.ballots.checks import CheckFailed, as_list, digest
from council.ballots.encrypt import (
    ZERO,
    Ciphertext,
    QuestionShape,
    Reveal,
    answers_from_json,
    check_reveal,
    tracking_code,
    verify_ballot,
)
from council.ballots.group import Point
from council.ballots.proofs import ChallengeResponse
from council.ballots.record import (
    MANIFEST_KEYS,
    PAYLOAD_KEYS,
    RESULT_KEYS,
    VERSION,
    Json,
    RecordError,
    check_parameters,
    check_roster,
    entry_hash,
    f0_of,
    fingerprint_of,
    load_json,
    parameters_of,
    question_shapes,
    read_record,
    sums_from_json,
)
from council.ballots.rules import evaluate_outcome, is_int
from council.canonical import canonical_bytes

PARALLEL_ABOVE: Final = 300  # ballots; fewer are checked in this process
CHUNKS_PER_WORKER: Final = 4
ENTRY_KEYS: Final = frozenset({"seq", "kind", "payload", "prev", "hash"})
TRUSTEE_KEYS: Final = frozenset({"index", "name", "box_key", "commitments", "pok"})


@dataclass(frozen=True, slots=True)
class Failure:
    check: str
    message: str
    seq: int | None = None

    def __str__(self) -> str:
        where = f"board entry {self.seq}: " if self.seq is not None else ""
        return f"[{self.check}] {where}{self.message}"


@dataclass
class Report:
    failure: Failure | None = None
    passed: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def text(self) -> str:
        lines = [f"  ok  {line}" for line in self.passed]
        lines.append(f"FAILED {self.failure}" if self.failure else "VERIFIED: every check passed")
        return "\n".join(lines)


class _Stop(Exception):
    def __init__(self, check: str, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.failure = Failure(check, message, seq)


@dataclass
class _Context:
    manifest: Mapping[str, Any]
    shapes: list[QuestionShape]
    fingerprint: bytes
    public_key: Point | None
    vks: dict[int, Point]
    weights: dict[str, int]


def _time(value: object, what: str, seq: int | None = None) -> None:
    try:
        if not isinstance(value, str) or datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None:
            raise ValueError
    except ValueError:
        raise _Stop(
            "entry" if seq is not None else "manifest", f"{what} is not an RFC 3339 time", seq
        ) from None


# 1. The manifest ------------------------------------------------------------------------


def _manifest(m: object, report: Report) -> _Context:
    if not isinstance(m, dict) or set(m) != MANIFEST_KEYS:
        present = set(m) if isinstance(m, dict) else set()
        odd = sorted(MANIFEST_KEYS ^ present)
        raise _Stop("manifest", "the manifest's fields are not those of council/v1: " + ", ".join(odd))
    if m["version"] != VERSION:
        raise _Stop("version", f"version is {m['version']!r}, this verifier reads {VERSION!r}")
    try:
        if not isinstance(m["trustees"], list) or not all(
            isinstance(tr, dict) and set(tr) == TRUSTEE_KEYS for tr in m["trustees"]
        ):
            raise ValueError("every trustee is {index, name, box_key, commitments, pok}")
        params = parameters_of(m)
        check_parameters(params)
        shapes = question_shapes(m["questions"])
        weights = check_roster(m["roster"])
    except ValueError as error:
        raise _Stop("manifest", str(error)) from None
    _time(m["opens_at"], "opens_at")
    _time(m["closes_at"], "closes_at")
    report.passed.append(
        f"manifest {VERSION}: ballot {m['ballot_id']} “{m['title']}”, {len(shapes)} question(s), "
        f"{len(weights)} on the roster (weight {sum(weights.values())}), {m['secrecy']}, trustees {m['t']} of {m['n']}"
    )
    try:
        f0, fingerprint = digest(m["F0"], "F0"), digest(m["fingerprint"])
        f0_again, fingerprint_again = f0_of(params), fingerprint_of(m)
    except (CheckFailed, TypeError) as error:
        raise _Stop("manifest", str(error)) from None
    if f0 != f0_again:
        raise _Stop("F0", "F0 is not the SHA-256 of the canonical parameters")
    if fingerprint != fingerprint_again:
        raise _Stop("fingerprint", "the fingerprint F is not the SHA-256 of the canonical manifest")
    report.passed.append(f"fingerprints: F0 {m['F0']}, F {m['fingerprint']}")
    if m["secrecy"] == "open":
        if m["public_key"] is not None or m["verification_keys"] != {}:
            raise _Stop("manifest", "an open ballot has no public_key and no verification_keys")
        return _Context(m, shapes, fingerprint, None, {}, weights)
    commitments: dict[int, tuple[Point, ...]] = {}
    try:
        for trustee in m["trustees"]:
            i = trustee["index"]
            commitments[i] = keys.commitments_from_json(trustee["commitments"], f"trustee {i}: commitments")
            keys.verify_commitments(f0, i, m["t"], commitments[i], _pok(trustee["pok"], i))
        y = keys.public_key(commitments)
    except CheckFailed as error:
        raise _Stop(error.check, str(error)) from None
    if m["public_key"] != y.hex():
        raise _Stop("public_key", "public_key is not Y = Σ C_i0 of the trustees' commitments")
    vks = keys.verification_keys(commitments)
    if not isinstance(m["verification_keys"], dict) or set(m["verification_keys"]) != {str(j) for j in vks}:
        raise _Stop("verification_key", "verification_keys must name every trustee 1..n")
    for j, vk in vks.items():
        if m["verification_keys"][str(j)] != vk.hex():
            raise _Stop("verification_key", f"V_{j} is not Σ_i Σ_k {j}^k·C_ik")
    report.passed.append(f"trustees: {len(vks)} proofs of knowledge, public key Y and every V_j")
    return _Context(m, shapes, fingerprint, y, vks, weights)


def _pok(value: object, i: int) -> ChallengeResponse:
    return ChallengeResponse.from_json(value, f"trustee {i}: pok")


# 2. The board ---------------------------------------------------------------------------

Job = tuple[int, str, str, Any, Any, int]  # seq, kind, alias, answers, reveal, weight (0: not counted)


@dataclass
class _Scan:
    failure: Failure | None = None
    jobs: list[Job] = field(default_factory=list)
    last: dict[str, int] = field(default_factory=dict)  # alias -> seq of its last ballot or vote
    votes: dict[int, list[list[int]]] = field(default_factory=dict)  # open ballots: seq -> choices
    shares: list[tuple[int, Json]] = field(default_factory=list)
    result_seq: int | None = None
    audited: int = 0
    head: str = ""


def _scan(ctx: _Context, board: object) -> _Scan:
    """Everything about the board but the proofs; stops at the first failure."""
    scan = _Scan()
    try:
        _walk(ctx, board, scan)
    except _Stop as stop:
        scan.failure = stop.failure
    return scan


def _walk(ctx: _Context, board: object, scan: _Scan) -> None:
    if not isinstance(board, list):
        raise _Stop("chain", "the board is not a list of entries")
    secret = ctx.public_key is not None
    phase = "voting"
    prev = ctx.manifest["fingerprint"]
    seen: dict[tuple[str, str], int] = {}
    for k, entry in enumerate(board):
        if not isinstance(entry, dict) or set(entry) != ENTRY_KEYS:
            raise _Stop("chain", "an entry is {seq, kind, payload, prev, hash}", k)
        if not is_int(entry["seq"]) or entry["seq"] != k:
            raise _Stop(
                "chain", f"seq is {entry['seq']!r} where {k} belongs (an entry is missing or moved)", k
            )
        if entry["prev"] != prev:
            raise _Stop("chain", "prev is not the hash of the entry before it" if k else "prev is not F", k)
        payload, kind = entry["payload"], entry["kind"]
        try:
            if not isinstance(payload, dict) or entry_hash(prev, payload) != entry["hash"]:
                raise ValueError
        except (ValueError, TypeError):
            raise _Stop("chain", "the hash is not SHA-256(prev ‖ canonical(payload))", k) from None
        prev = entry["hash"]
        if not isinstance(kind, str) or kind not in PAYLOAD_KEYS or set(payload) != PAYLOAD_KEYS[kind]:
            raise _Stop("entry", f"a {kind!r} entry with the payload keys {sorted(payload)}", k)
        if kind in ("ballot", "audited", "vote"):
            if phase != "voting":
                raise _Stop("after_close", f"a {kind} after the close", k)
            if (kind == "vote") == secret:
                raise _Stop(
                    "entry", f"a {kind} entry on a {'secret' if secret else 'open'} ballot's board", k
                )
            alias = payload["alias"]
            if not isinstance(alias, str) or alias not in ctx.weights:
                raise _Stop("roster", f"the alias {alias!r} is not on the roster snapshot", k)
            _time(payload["cast_at"], "cast_at", k)
            if kind == "vote":
                scan.votes[k] = _choices(ctx, payload, k)
                scan.last[alias] = k
                continue
            try:
                pairs = [(c["alpha"], c["beta"]) for a in payload["answers"] for c in a["choices"]]
                first = next((seen[p] for p in pairs if p in seen), None)
            except (TypeError, KeyError):
                what = f"{kind} of {alias}: the answers are not [{{choices: [{{alpha, beta}}]}}]"
                raise _Stop("encoding", what, k) from None
            if first is not None or len(set(pairs)) != len(pairs):
                raise _Stop("duplicate", f"{kind} of {alias} repeats a ciphertext of board entry {first}", k)
            seen.update((p, k) for p in pairs)
            scan.jobs.append((k, kind, alias, payload["answers"], payload.get("reveal"), 0))
            if kind == "ballot":
                scan.last[alias] = k
            else:
                scan.audited += 1
        elif kind == "close":
            if phase != "voting":
                raise _Stop("order", "a second close", k)
            _time(payload["closed_at"], "closed_at", k)
            phase = "closed"
        elif kind == "share":
            if phase not in ("closed", "shares") or not secret:
                raise _Stop("order", "a decryption share before the close or on an open ballot", k)
            phase = "shares"
            scan.shares.append((k, payload))
        elif phase == "voting" or phase == "result":
            raise _Stop("order", "a result before the close" if phase == "voting" else "a second result", k)
        else:
            phase, scan.result_seq = "result", k
    if phase != "result":
        raise _Stop("order", "the board does not end with a close and a result")
    scan.head = prev


def _choices(ctx: _Context, payload: Mapping[str, Any], k: int) -> list[list[int]]:
    choices = payload["choices"]
    if (
        not isinstance(choices, list)
        or len(choices) != len(ctx.shapes)
        or not all(isinstance(row, list) and all(is_int(m) for m in row) for row in choices)
        or not all(shape.allows(row) for shape, row in zip(ctx.shapes, choices, strict=True))
        or not isinstance(payload["voter_name"], str)
    ):
        raise _Stop("selection", f"the vote of {payload['alias']} breaks a question's rule", k)
    return choices


Partial = list[list[tuple[bytes, bytes]]]


def check_ballots(
    fingerprint: bytes, public_key: bytes, questions: list[Any], jobs: Sequence[Job]
) -> tuple[tuple[int, str, str] | None, Partial]:
    """Proofs (and reveals) of these ballots in seq order, and the weighted sum of the counted.

    Returns the first failure as (seq, check, message), or None and the partial sums as
    raw bytes (a process pool's worker: plain values cross the process boundary).
    """
    shapes = question_shapes(questions)
    y = Point(public_key)
    sums = [[ZERO] * shape.options for shape in shapes]
    for seq, kind, alias, answers_json, reveal_json, weight in jobs:
        try:
            answers = answers_from_json(answers_json)
            verify_ballot(fingerprint, alias, shapes, y, answers)
            if kind == "audited":
                reveals = as_list(reveal_json, "reveal")
                if len(reveals) != len(shapes):
                    raise CheckFailed("shape", f"expected {len(shapes)} reveals, got {len(reveals)}")
                for q, (answer, reveal) in enumerate(zip(answers, reveals, strict=True)):
                    check_reveal(q, y, answer, Reveal.from_json(reveal, f"reveal[{q}]"))
        except CheckFailed as error:
            return (seq, error.check, f"{kind} of {alias}: {error}"), []
        for q, answer in enumerate(answers if weight else ()):
            for k, choice in enumerate(answer.choices):
                sums[q][k] = sums[q][k] + (choice if weight == 1 else choice.times(weight))
    return None, [[(s.alpha.to_bytes(), s.beta.to_bytes()) for s in row] for row in sums]


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _proofs(
    ctx: _Context, jobs: list[Job], workers: int, parallel_above: int
) -> tuple[Failure | None, list[list[Ciphertext]]]:
    assert ctx.public_key is not None
    args = (ctx.fingerprint, ctx.public_key.to_bytes(), ctx.manifest["questions"])
    if workers <= 1 or len(jobs) <= parallel_above:
        results = [check_ballots(*args, jobs)]
    else:
        size = math.ceil(len(jobs) / (workers * CHUNKS_PER_WORKER))
        chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(check_ballots, *(repeat(a) for a in args), chunks))
    failures = sorted(f for f, _ in results if f is not None)
    if failures:
        return Failure(failures[0][1], failures[0][2], failures[0][0]), []
    sums = [[ZERO] * shape.options for shape in ctx.shapes]
    for _, partial in results:
        for q, row in enumerate(partial):
            for k, (alpha, beta) in enumerate(row):
                sums[q][k] = sums[q][k] + Ciphertext(Point(alpha), Point(beta))
    return None, sums


# 3. The result --------------------------------------------------------------------------


def _same(value: object, expected: object) -> bool:
    """Equal as JSON (so true is not 1): the same canonical bytes."""
    try:
        return canonical_bytes(value) == canonical_bytes(expected)
    except (TypeError, ValueError):
        return False


def _differs(name: str, got: object, want: Sequence[Sequence[int]]) -> str:
    for q, expected in enumerate(want):
        for k, b in enumerate(expected):
            try:
                a = got[q][k]  # type: ignore[index]
            except (TypeError, IndexError, KeyError):
                break
            if not _same(a, b):
                return f"{name}[{q}][{k}] is {a!r}, the verifier finds {b}"
    return f"{name} does not have one count per question and option"


def _result(
    ctx: _Context,
    board: list[Json],
    result: object,
    scan: _Scan,
    sums: list[list[Ciphertext]],
    report: Report,
) -> None:
    m = ctx.manifest
    if not isinstance(result, dict) or set(result) != RESULT_KEYS:
        raise _Stop("result", "result.json's fields are not " + ", ".join(sorted(RESULT_KEYS)))
    counted = [alias for alias in ctx.weights if alias in scan.last]
    if not _same(result["counted"], counted):
        raise _Stop(
            "counted", "result.counted is not the last ballot before the close of each alias, in roster order"
        )
    weight_cast = sum(ctx.weights[alias] for alias in counted)
    weight_eligible = sum(ctx.weights.values())
    if not _same(result["turnout"], {"weight_cast": weight_cast, "weight_eligible": weight_eligible}):
        raise _Stop(
            "turnout", f"turnout is not weight_cast {weight_cast} of weight_eligible {weight_eligible}"
        )
    superseded = (
        len(scan.jobs) - scan.audited - len(counted) if ctx.public_key else len(scan.votes) - len(counted)
    )
    report.passed.append(
        f"board: {len(board)} entries chained from F; {len(counted) + superseded} ballots "
        f"({superseded} superseded by a revote), {scan.audited} audited and not counted, every proof verifies"
    )
    if ctx.public_key is None:
        counts = [[0] * shape.options for shape in ctx.shapes]
        for alias in counted:
            for q, row in enumerate(scan.votes[scan.last[alias]]):
                for k, mark in enumerate(row):
                    counts[q][k] += ctx.weights[alias] * mark
        if result["sums"] != [] or result["shares"] != []:
            raise _Stop("sums", "an open ballot's result has no sums and no shares")
    else:
        counts = _decrypt(ctx, result, scan, sums, weight_cast, report)
    if not _same(result["counts"], counts):
        raise _Stop("count", _differs("counts", result["counts"], counts))
    assert scan.result_seq is not None
    on_board = board[scan.result_seq]["payload"]
    if not _same(on_board["counts"], counts):
        raise _Stop("count", "the board's " + _differs("counts", on_board["counts"], counts), scan.result_seq)
    report.passed.append(f"counts {counts} (weight {weight_cast} cast of {weight_eligible})")
    try:
        outcome = evaluate_outcome(
            m["rule"], ctx.shapes, counts, weight_cast=weight_cast, weight_eligible=weight_eligible
        )
    except ValueError as error:
        raise _Stop("outcome", str(error)) from None
    if not _same(result["outcome"], outcome):
        raise _Stop(
            "outcome", f"result.outcome is not the rule's outcome {json.dumps(outcome, ensure_ascii=False)}"
        )
    if not _same(on_board["outcome"], outcome):
        raise _Stop("outcome", "the board's result entry has another outcome", scan.result_seq)
    report.passed.append(f"outcome under the rule: {_describe(outcome)}")
    if not _same(result["head"], scan.head):
        raise _Stop("head", f"result.head is not the board's head {scan.head}")
    report.passed.append(f"head {scan.head}")
    report.figures.update(
        entries=len(board),
        counted=len(counted),
        audited=scan.audited,
        superseded=superseded,
        weight_cast=weight_cast,
        weight_eligible=weight_eligible,
        counts=counts,
        outcome=outcome,
        head=scan.head,
    )


def _decrypt(
    ctx: _Context,
    result: Mapping[str, Any],
    scan: _Scan,
    sums: list[list[Ciphertext]],
    bound: int,
    report: Report,
) -> list[list[int]]:
    m = ctx.manifest
    try:
        claimed = sums_from_json(result["sums"])
    except CheckFailed as error:
        raise _Stop("sums", f"result.sums: {error}") from None
    if claimed != sums:
        where = next(
            (
                f"[{q}][{k}]"
                for q, row in enumerate(sums)
                for k, total in enumerate(row)
                if [c[k : k + 1] for c in claimed[q : q + 1]] != [[total]]
            ),
            "",
        )
        raise _Stop("sums", f"result.sums{where} is not the roster-weighted sum of the counted ballots")
    if not _same(result["shares"], [payload for _, payload in scan.shares]):
        raise _Stop("shares", "result.shares are not the share entries of the board")
    posted: dict[int, list[list[tally.DecryptionShare]]] = {}
    for seq, payload in scan.shares:
        j = payload["trustee"]
        if not is_int(j) or j not in ctx.vks or j in posted:
            raise _Stop("shares", f"trustee {j!r} is not a trustee 1..{m['n']} or posts twice", seq)
        try:
            posted[j] = tally.shares_from_json(payload["shares"])
            tally.verify_decryption_shares(ctx.fingerprint, j, ctx.vks[j], sums, posted[j])
        except CheckFailed as error:
            raise _Stop(error.check, str(error), seq) from None
    if len(posted) < m["t"]:
        raise _Stop(
            "threshold", f"decryption shares from {len(posted)} trustee(s), at least t = {m['t']} are needed"
        )
    try:
        counts = tally.decrypt_sums(sums, posted, m["t"], bound)
    except CheckFailed as error:
        raise _Stop(error.check, str(error)) from None
    report.passed.append(
        f"sums of the counted ballots; decryption shares of trustees {', '.join(map(str, sorted(posted)))} "
        "with their proofs; Lagrange combination"
    )
    return counts


def _describe(outcome: Mapping[str, Any]) -> str:
    parts = [] if outcome["quorum_met"] else ["quorum NOT met"]
    for q, decided in enumerate(outcome["questions"]):
        if decided["method"] == "majority":
            parts.append(
                f"Q{q + 1} {'passed' if decided['passed'] else 'not passed'} ({decided['yes']} of {decided['base']})"
            )
        elif decided["method"] == "top":
            parts.append(
                f"Q{q + 1} elected {decided['elected']}"
                + (f", tied {decided['tied']}" if decided["tied"] else "")
            )
        else:
            parts.append(f"Q{q + 1} funded {decided['funded']} ({decided['spent']} of {decided['budget']})")
    return "; ".join(parts)


def verify_record(
    manifest: object,
    board: object,
    result: object,
    *,
    workers: int | None = None,
    parallel_above: int = PARALLEL_ABOVE,
) -> Report:
    """Rechecks a whole record; the Report names the first failure (see the module docstring)."""
    report = Report()
    try:
        ctx = _manifest(manifest, report)
        scan = _scan(ctx, board)
        # Proofs only before the first failure the scan found: nothing after it can come first.
        cutoff = math.inf if scan.failure is None or scan.failure.seq is None else scan.failure.seq
        counted = set(scan.last.values())
        jobs = [
            (seq, kind, alias, answers, reveal, ctx.weights[alias] if seq in counted else 0)
            for seq, kind, alias, answers, reveal, _ in scan.jobs
            if seq < cutoff
        ]
        failure: Failure | None = None
        sums: list[list[Ciphertext]] = []
        if ctx.public_key is not None:
            failure, sums = _proofs(ctx, jobs, workers or default_workers(), parallel_above)
        failures = [f for f in (failure, scan.failure) if f is not None]
        if failures:
            first = min(failures, key=lambda f: math.inf if f.seq is None else f.seq)
            raise _Stop(first.check, first.message, first.seq)
        assert isinstance(board, list)
        _result(ctx, board, result, scan, sums, report)
    except _Stop as stop:
        report.failure = stop.failure
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        # A shape no check above foresaw: still a failure to report, never a crash.
        report.failure = Failure("malformed", f"the record is malformed ({type(error).__name__}: {error})")
    return report


# Receipts and audited ballots ------------------------------------------------------------


def check_receipt(board: Sequence[Mapping[str, Any]], code: str, head: str) -> bool:
    """A receipt (tracking code, head just after the ballot) is good if that head is on the
    final chain at or after a ballot with this tracking code."""
    for entry in board:
        payload = entry["payload"]
        if entry["kind"] == "ballot" and _tracking(payload) == code:
            return any(later["hash"] == head for later in board[entry["seq"] :])
    return False


def _tracking(payload: Mapping[str, Any]) -> str | None:
    try:
        return tracking_code(payload["alias"], answers_from_json(payload["answers"]))
    except CheckFailed:
        return None


def verify_audited(document: object) -> tuple[Report, list[list[int]]]:
    """One spoiled ballot {manifest, audited}: the manifest's F, the proofs, the reveal.

    Returns the report and the revealed selections (per question, the 0/1 of each option).
    """
    report = Report()
    try:
        if not isinstance(document, dict) or set(document) != {"manifest", "audited"}:
            raise _Stop("audited", "an audited-ballot file is {manifest, audited}")
        ctx = _manifest(document["manifest"], report)
        payload = document["audited"]
        if not isinstance(payload, dict) or set(payload) != PAYLOAD_KEYS["audited"] or ctx.public_key is None:
            raise _Stop("audited", "audited is {alias, answers, reveal, cast_at} of a secret ballot")
        if payload["alias"] not in ctx.weights:
            raise _Stop("roster", f"the alias {payload['alias']!r} is not on the roster snapshot")
        job: Job = (0, "audited", payload["alias"], payload["answers"], payload["reveal"], 0)
        failure, _ = check_ballots(
            ctx.fingerprint, ctx.public_key.to_bytes(), ctx.manifest["questions"], [job]
        )
        if failure is not None:
            raise _Stop(failure[1], failure[2])
        report.passed.append(
            f"tracking code {_tracking(payload)}: every proof verifies and the reveal matches"
        )
        return report, [list(r["m"]) for r in payload["reveal"]]
    except _Stop as stop:
        report.failure = stop.failure
        return report, []


# Command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="council verify", description="Verify a council/v1 election record, or one audited ballot."
    )
    parser.add_argument("record", nargs="?", help="RECORD.zip (manifest.json, board.jsonl, result.json)")
    parser.add_argument(
        "--audited", metavar="FILE", help="an audited (spoiled) ballot file {manifest, audited}"
    )
    parser.add_argument("--workers", type=int, default=None, help="processes for the ballot proofs")
    parser.add_argument(
        "--receipt",
        nargs=2,
        action="append",
        default=[],
        metavar=("TRACKING_CODE", "HEAD"),
        help="also check a voter's receipt: her ballot is on the final board and the head she was shown "
        "lies on its chain (repeatable)",
    )
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.audited:
        return _main_audited(args.audited)
    if not args.record:
        parser.error("give RECORD.zip, or --audited FILE")
    try:
        record = read_record(args.record)
    except RecordError as error:
        print(f"FAILED [record] {error}")
        return 1
    print(f"Record {args.record}")
    report = verify_record(record.manifest, record.board, record.result, workers=args.workers)
    print(report.text())
    receipts_ok = True
    for code, head in args.receipt:
        if report.ok and check_receipt(record.board, code.lower(), head.lower()):
            print(f"  receipt {code[:8]}…: the ballot is on the board and head {head[:12]}… is on its chain")
        else:
            receipts_ok = False
            print(
                f"FAILED [receipt] tracking code {code[:8]}… with head {head[:12]}… is not on this board's chain"
            )
    return 0 if report.ok and receipts_ok else 1


def _main_audited(path: str) -> int:
    try:
        with open(path, "rb") as file:
            document = load_json(file.read(), path)
    except (OSError, RecordError) as error:
        print(f"FAILED [record] {error}")
        return 1
    report, selections = verify_audited(document)
    print(report.text())
    if report.ok:
        for question, row in zip(document["manifest"]["questions"], selections, strict=True):
            chosen = [option for option, mark in zip(question["options"], row, strict=True) if mark]
            print(f"  {question['text']}: {', '.join(chosen) if chosen else '(none)'}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    # Run through the importable module, so a process pool's workers find check_ballots.
    from council.ballots.verify import main as _main

    sys.exit(_main())
