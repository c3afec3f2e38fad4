"""A whole election in memory, as the service runs one: for tests and `council ballots simulate`.

Trustee key generation (keys.deal, sealed shares, each trustee opening and checking its
shares), opening (manifest, F₀, F), casting (encrypt.encrypt_ballot; Benaloh audits are
posted as `audited` and never counted; a revote supersedes the alias's earlier ballot),
closing, the weighted homomorphic sums of the last ballot per alias, t trustees'
decryption shares with DLEQ proofs, the counts, the outcome under the rule, and the
`result` entry: `Election.tally()` returns the record (manifest, board, result).

Every trustee secret lives in this one process, so a simulated election proves nothing
about trust; it makes records the verifier must accept, and records to tamper with.
The server's acceptance checks are played here too: a ballot from an alias not on the
roster, after close, or repeating a ciphertext already on the board is Rejected, and a
ballot whose proofs fail raises the CheckFailed that names the check (unless
check_ballots=False, for a benchmark that encrypted its ballots itself). Times come from
a fake clock that ticks one second per event from opens_at, so a run is pure.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nacl.public import PrivateKey

from council.ballots import keys, tally
from council.ballots.checks import CheckFailed
from council.ballots.encrypt import (
    Ciphertext,
    EncryptedAnswer,
    QuestionShape,
    Reveal,
    answers_from_json,
    answers_to_json,
    check_reveal,
    encrypt_ballot,
    verify_ballot,
)
from council.ballots.group import Point, Scalar
from council.ballots.record import (
    Board,
    Json,
    Record,
    build_manifest,
    f0_of,
    parameters,
    question_shapes,
    sums_to_json,
)
from council.ballots.rules import evaluate_outcome


class Rejected(ValueError):
    """The board refuses a ballot: `reason` is "roster", "closed" or "duplicate"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_selection(rng: random.Random, shape: QuestionShape) -> list[int]:
    """A selection the question allows, drawn from rng (for simulations)."""
    while True:
        selection = [rng.randint(0, 1) for _ in range(shape.options)]
        if shape.allows(selection):
            return selection


@dataclass(frozen=True, slots=True)
class Cast:
    """One voter action for `simulate`: cast (or audit) these selections."""

    alias: str
    selections: Sequence[Sequence[int]]
    audit: bool = False


class Election:
    def __init__(
        self,
        *,
        questions: Sequence[Mapping[str, Any]],
        roster: Sequence[Mapping[str, Any]],
        n: int = 3,
        t: int | None = None,
        rule: Mapping[str, Any] | None = None,
        ballot_id: int | str = 1,
        title: str = "模拟表决 simulated ballot",
        secrecy: str = "secret",
        weight_basis: str = "household",
        opens_at: str = "2025-06-01T09:00:00Z",
        closes_at: str = "2025-06-08T09:00:00Z",
        check_ballots: bool = True,
    ) -> None:
        if secrecy == "open":
            n, t = 0, 0
        t = keys.default_threshold(n) if t is None else t
        self.check_ballots = check_ballots
        self._now = datetime.fromisoformat(opens_at.replace("Z", "+00:00"))
        boxes = {j: PrivateKey.generate() for j in range(1, n + 1)}
        names = {j: f"监督委员 trustee {j}" for j in boxes}
        params = parameters(
            ballot_id=ballot_id,
            title=title,
            secrecy=secrecy,
            questions=questions,
            rule=rule if rule is not None else {"preset": "resident_meeting"},
            weight_basis=weight_basis,
            t=t,
            n=n,
            trustees=[
                {"index": j, "name": names[j], "box_key": bytes(k.public_key).hex()} for j, k in boxes.items()
            ],
        )
        f0 = f0_of(params)
        box_keys = {j: k.public_key for j, k in boxes.items()}
        dealt = [keys.deal(f0, i, t, box_keys)[1] for i in boxes]
        # Each trustee opens the share every dealer sealed to it and checks it against the commitments.
        self.secret_shares: dict[int, Scalar] = {
            j: keys.combine_shares(
                keys.open_share(d.index, j, d.sealed[j], box, d.commitments) for d in dealt
            )
            for j, box in boxes.items()
        }
        self.manifest = build_manifest(
            params, dealings=dealt, roster=roster, opens_at=opens_at, closes_at=closes_at
        )
        self.fingerprint = bytes.fromhex(self.manifest["fingerprint"])
        key = self.manifest["public_key"]
        self.public_key: Point | None = None if key is None else Point.from_hex(key)
        self.shapes = question_shapes(self.manifest["questions"])
        self.weights = {row["alias"]: row["weight"] for row in self.manifest["roster"]}
        self.board = Board(self.manifest["fingerprint"])
        self.closed = False
        self._seen: set[tuple[str, str]] = set()
        self._ballots: dict[str, tuple[EncryptedAnswer, ...]] = {}  # the last ballot per alias
        self._votes: dict[str, list[list[int]]] = {}  # open ballots: the last vote per alias

    def _tick(self) -> str:
        self._now += timedelta(seconds=1)
        return rfc3339(self._now)

    def _admit(self, alias: str, answers_json: Sequence[Mapping[str, Any]]) -> tuple[EncryptedAnswer, ...]:
        if self.closed:
            raise Rejected("closed", "the ballot is closed")
        if alias not in self.weights:
            raise Rejected("roster", f"{alias!r} is not on the roster")
        if self.public_key is None:
            raise ValueError("an open ballot takes votes, not encrypted ballots")
        pairs = {(c["alpha"], c["beta"]) for answer in answers_json for c in answer["choices"]}
        if pairs & self._seen:
            raise Rejected("duplicate", "the ballot repeats a ciphertext already on the board")
        answers = answers_from_json(list(answers_json))
        if self.check_ballots:
            verify_ballot(self.fingerprint, alias, self.shapes, self.public_key, answers)
        self._seen |= pairs
        return answers

    def post_ballot(self, alias: str, answers_json: Sequence[Mapping[str, Any]]) -> Json:
        """The server's side: admit an encrypted ballot (answers as on the board) and append it."""
        answers = self._admit(alias, answers_json)
        entry = self.board.append(
            "ballot", {"alias": alias, "answers": list(answers_json), "cast_at": self._tick()}
        )
        self._ballots[alias] = answers  # a revote supersedes the earlier ballot
        return entry

    def post_audited(
        self, alias: str, answers_json: Sequence[Mapping[str, Any]], reveal_json: Sequence[Mapping[str, Any]]
    ) -> Json:
        """A spoiled ballot with its reveal: on the board, never counted."""
        answers = self._admit(alias, answers_json)
        if self.check_ballots:
            assert self.public_key is not None
            for q, (answer, reveal) in enumerate(zip(answers, reveal_json, strict=True)):
                check_reveal(q, self.public_key, answer, Reveal.from_json(reveal, f"reveal[{q}]"))
        payload = {
            "alias": alias,
            "answers": list(answers_json),
            "reveal": list(reveal_json),
            "cast_at": self._tick(),
        }
        return self.board.append("audited", payload)

    def encrypt(self, alias: str, selections: Sequence[Sequence[int]]) -> tuple[list[Json], list[Json]]:
        """The voter's side (encrypt.encrypt_ballot): answers and reveals as board JSON."""
        if self.public_key is None:
            raise ValueError("an open ballot is not encrypted")
        answers, reveals = encrypt_ballot(self.fingerprint, alias, self.shapes, self.public_key, selections)
        return answers_to_json(answers), [r.to_json() for r in reveals]

    def cast(self, alias: str, selections: Sequence[Sequence[int]]) -> Json:
        return self.post_ballot(alias, self.encrypt(alias, selections)[0])

    def audit(self, alias: str, selections: Sequence[Sequence[int]]) -> Json:
        return self.post_audited(alias, *self.encrypt(alias, selections))

    def vote(self, alias: str, voter_name: str, choices: Sequence[Sequence[int]]) -> Json:
        """An open (roll-call) ballot's vote, in clear."""
        if self.public_key is not None:
            raise ValueError("a secret ballot takes encrypted ballots")
        if self.closed or alias not in self.weights:
            raise Rejected("closed" if self.closed else "roster", "the vote is not admitted")
        if len(choices) != len(self.shapes) or not all(
            s.allows(c) for s, c in zip(self.shapes, choices, strict=False)
        ):
            raise CheckFailed("selection", "the choices break a question's rule")
        rows = [list(c) for c in choices]
        entry = self.board.append(
            "vote", {"alias": alias, "voter_name": voter_name, "choices": rows, "cast_at": self._tick()}
        )
        self._votes[alias] = rows
        return entry

    def close(self) -> Json:
        entry = self.board.append("close", {"closed_at": self._tick()})
        self.closed = True
        return entry

    def tally(self, trustees: Sequence[int] | None = None) -> Record:
        """Close if still open, sum, decrypt with `trustees` (default the first t), post the result."""
        if not self.closed:
            self.close()
        last = self._ballots if self.public_key is not None else self._votes
        counted = [alias for alias in self.weights if alias in last]
        weight_cast = sum(self.weights[alias] for alias in counted)
        weight_eligible = sum(self.weights.values())
        sums: list[list[Ciphertext]] = []
        shares: list[Json] = []
        if self.public_key is None:
            counts = [[0] * shape.options for shape in self.shapes]
            for alias in counted:
                for q, row in enumerate(self._votes[alias]):
                    for k, mark in enumerate(row):
                        counts[q][k] += self.weights[alias] * mark
        else:
            sums = tally.sum_ballots(self.shapes, [(self.weights[a], self._ballots[a]) for a in counted])
            chosen = (
                list(trustees) if trustees is not None else sorted(self.secret_shares)[: self.manifest["t"]]
            )
            posted: dict[int, list[list[tally.DecryptionShare]]] = {}
            for j in chosen:
                posted[j] = tally.decryption_shares(self.fingerprint, j, self.secret_shares[j], sums)
                payload: Json = {"trustee": j, "shares": tally.shares_to_json(posted[j])}
                self.board.append("share", payload)
                shares.append(payload)
            counts = tally.decrypt_sums(sums, posted, self.manifest["t"], weight_cast)
        outcome = evaluate_outcome(
            self.manifest["rule"],
            self.shapes,
            counts,
            weight_cast=weight_cast,
            weight_eligible=weight_eligible,
        )
        self.board.append("result", {"counts": counts, "outcome": outcome})
        result: Json = {  # copies: result.json shares no object with the board
            "counted": counted,
            "sums": sums_to_json(sums),
            "shares": copy.deepcopy(shares),
            "counts": copy.deepcopy(counts),
            "turnout": {"weight_cast": weight_cast, "weight_eligible": weight_eligible},
            "outcome": copy.deepcopy(outcome),
            "head": self.board.head,
        }
        return Record(self.manifest, list(self.board.entries), result)


def simulate(
    *,
    questions: Sequence[Mapping[str, Any]],
    roster: Sequence[Mapping[str, Any]],
    casts: Sequence[Cast],
    n: int = 3,
    t: int | None = None,
    rule: Mapping[str, Any] | None = None,
    trustees: Sequence[int] | None = None,
    **options: Any,
) -> Record:
    """Runs a whole election: key generation, the casts in order, close and tally."""
    election = Election(questions=questions, roster=roster, n=n, t=t, rule=rule, **options)
    for cast in casts:
        if cast.audit:
            election.audit(cast.alias, cast.selections)
        else:
            election.cast(cast.alias, cast.selections)
    return election.tally(trustees)
