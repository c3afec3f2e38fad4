"""The trustee's own recheck of what she is asked to decrypt (shared/BALLOTS.md, "Tally").

`council trustee decrypt` trusts nothing it can recompute: check_manifest recomputes the
manifest's fingerprints and the trustees' keys, recount checks the board's hash chain and
the proofs of the counted ballots and adds up the last ballot of every roster alias before
the close with the roster weights itself. The command refuses to decrypt if the server's
sums differ: decrypting sums the server chose would let it open a single voter's ballot.

Like verify.py, it imports no web or database code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Final

from council.ballots import keys
from council.ballots.checks import CheckFailed
from council.ballots.encrypt import answers_from_json, verify_ballot
from council.ballots.group import Point
from council.ballots.proofs import ChallengeResponse
from council.ballots.record import (
    entry_hash,
    f0_of,
    fingerprint_of,
    parameters_of,
    question_shapes,
    sums_to_json,
)
from council.ballots.tally import sum_ballots

PARALLEL_ABOVE: Final = 300  # ballots whose proofs are checked in this process; more go to a pool


class RecheckFailed(Exception):
    """The manifest or the board fails the trustee's recheck; the message says where.
    `council trustee` ends with it on stderr and exit status 1, as with a CliError."""


def check_manifest(manifest: Mapping[str, Any], state: Mapping[str, Any]) -> None:
    """F₀, F and the trustees' keys recomputed; they must be those the trustee state shows."""
    try:
        if fingerprint_of(manifest).hex() != manifest["fingerprint"]:
            raise RecheckFailed("the manifest's fingerprint F is not the SHA-256 of the manifest")
        if manifest["fingerprint"] != state["fingerprint"]:
            raise RecheckFailed("the manifest's fingerprint is not the one the trustee API shows")
        if f0_of(parameters_of(manifest)).hex() != manifest["F0"] or manifest["F0"] != state["f0"]:
            raise RecheckFailed("the manifest's F0 does not match its parameters or the key generation")
        f0 = bytes.fromhex(manifest["F0"])
        commitments: dict[int, tuple[Point, ...]] = {}
        for trustee in manifest["trustees"]:
            i = int(trustee["index"])
            commitments[i] = keys.commitments_from_json(trustee["commitments"], f"trustee {i}.commitments")
            keys.verify_commitments(
                f0, i, int(manifest["t"]), commitments[i], ChallengeResponse.from_json(trustee["pok"])
            )
        if manifest["public_key"] != keys.public_key(commitments).hex():
            raise RecheckFailed("the manifest's public key is not the sum of the trustees' commitments")
        for j, vk in keys.verification_keys(commitments).items():
            if manifest["verification_keys"].get(str(j)) != vk.hex():
                raise RecheckFailed(
                    f"the manifest's verification key V_{j} does not follow from the commitments"
                )
    except (CheckFailed, KeyError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, RecheckFailed):
            raise
        raise RecheckFailed(f"the manifest is malformed or fails a check: {error}") from None


@dataclass
class Counted:
    """The board as this trustee reads it: the counted ballots and its own sums."""

    ballots: dict[str, dict[str, Any]]  # alias -> its last ballot entry before the close
    sums: list[list[dict[str, str]]]
    close_seq: int
    length: int


def check_board(manifest: Mapping[str, Any], board: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The hash chain from F, one close, nothing cast after it, aliases on the roster.
    Returns {alias: last ballot entry before the close} in roster order."""
    weights = {row["alias"]: row["weight"] for row in manifest["roster"]}
    prev = manifest["fingerprint"]
    last: dict[str, dict[str, Any]] = {}
    closed = False
    for k, entry in enumerate(board):
        try:
            good = (
                entry["seq"] == k
                and entry["prev"] == prev
                and entry_hash(prev, entry["payload"]) == entry["hash"]
            )
        except (KeyError, TypeError, ValueError):
            good = False
        if not good:
            raise RecheckFailed(
                f"the board's hash chain breaks at entry {k}: it is not the board the server signed"
            )
        prev = entry["hash"]
        kind, payload = entry["kind"], entry["payload"]
        if kind in ("ballot", "audited", "vote"):
            if closed:
                raise RecheckFailed(f"board entry {k}: a {kind} after the close")
            if kind == "vote":
                raise RecheckFailed(f"board entry {k}: an open ballot's vote on a secret ballot's board")
            if payload.get("alias") not in weights:
                raise RecheckFailed(
                    f"board entry {k}: the alias {payload.get('alias')!r} is not on the roster"
                )
            if kind == "ballot":
                last[payload["alias"]] = dict(entry)
        elif kind == "close":
            if closed:
                raise RecheckFailed(f"board entry {k}: a second close")
            closed = True
    if not closed:
        raise RecheckFailed("the board has no close entry: the ballot is not closed")
    return {alias: last[alias] for alias in weights if alias in last}


def _check_proofs(manifest: Mapping[str, Any], ballots: Mapping[str, Mapping[str, Any]]) -> None:
    """Every counted ballot's proofs, as the server claims it checked them (a pool for many)."""
    fingerprint = bytes.fromhex(manifest["fingerprint"])
    public_key = Point.from_hex(manifest["public_key"], "public_key")
    shapes = question_shapes(manifest["questions"])
    entries = list(ballots.values())
    if len(entries) <= PARALLEL_ABOVE:
        for entry in entries:
            try:
                answers = answers_from_json(entry["payload"]["answers"])
                verify_ballot(fingerprint, entry["payload"]["alias"], shapes, public_key, answers)
            except CheckFailed as error:
                raise RecheckFailed(
                    f"board entry {entry['seq']}: the ballot fails its {error.check} check: {error}"
                ) from None
        return
    from council.ballots.verify import check_ballots, default_workers

    jobs = [(e["seq"], "ballot", e["payload"]["alias"], e["payload"]["answers"], None, 0) for e in entries]
    workers = default_workers()
    size = math.ceil(len(jobs) / (workers * 4))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    args = (fingerprint, public_key.to_bytes(), manifest["questions"])
    with ProcessPoolExecutor(max_workers=workers) as pool:
        failures = sorted(f for f, _ in pool.map(check_ballots, *(repeat(a) for a in args), chunks) if f)
    if failures:
        seq, check, message = failures[0]
        raise RecheckFailed(f"board entry {seq}: the ballot fails its {check} check: {message}")


def recount(manifest: Mapping[str, Any], board: Sequence[Mapping[str, Any]], *, proofs: bool) -> Counted:
    """The sums of the counted ballots, from the board alone."""
    ballots = check_board(manifest, board)
    if proofs:
        _check_proofs(manifest, ballots)
    weights = {row["alias"]: int(row["weight"]) for row in manifest["roster"]}
    try:
        pairs = [(weights[a], answers_from_json(e["payload"]["answers"])) for a, e in ballots.items()]
        sums = sum_ballots(question_shapes(manifest["questions"]), pairs)
    except (CheckFailed, KeyError, TypeError, ValueError) as error:
        raise RecheckFailed(f"a counted ballot on the board cannot be read: {error}") from None
    close_seq = next(e["seq"] for e in board if e["kind"] == "close")
    return Counted(ballots, sums_to_json(sums), close_seq, len(board))


def first_difference(ours: Sequence[Sequence[Any]], theirs: object) -> str:
    try:
        for q, row in enumerate(ours):
            for k, value in enumerate(row):
                if theirs[q][k] != value:  # type: ignore[index]
                    return f"question {q + 1}, option {k + 1}"
    except (TypeError, IndexError, KeyError):
        pass
    return "their shape"
