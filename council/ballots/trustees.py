"""The trustees' side (shared/BALLOTS.md, "Trustees" and "Tally"): box keys, dealings,
share checks and complaints, decryption shares. Only public values reach the server; the
trustee's secrets stay in her key file (council/ballots/trustee_cli.py).

Order: every trustee registers her X25519 box key; with the last one F₀ is fixed. Each
then posts her dealing (commitments, proof of knowledge bound to F₀, shares sealed to
every trustee), checked here. With every dealing in, each trustee opens the shares sealed
to her and confirms them, or complains: a complaint stops the set-up, naming both
trustees. With every confirmation the ballot is ready to open. After the close, each
trustee posts her decryption shares with DLEQ proofs; with the t-th the result is
computed and published.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from council.accounts.principal import Principal
from council.audit import service as audit
from council.ballots import board as ballot_board
from council.ballots import keys, results, tally
from council.ballots.checks import CheckFailed, hex_bytes
from council.ballots.group import Point
from council.ballots.proofs import ChallengeResponse
from council.ballots.record import f0_of, sums_from_json
from council.ballots.service import ballot_parameters, dumps, get_row, loads, trustees_of
from council.ballots.tables import Ballot, BallotStatus, BoardEntry, Trustee
from council.db import write_transaction
from council.errors import Conflict, Forbidden, NotFound, Refused
from council.i18n import N_

SEALED_BYTES = 32 + 48  # a 32-byte scalar in a SealedBox


def now() -> datetime:
    return datetime.now(UTC)


def _refuse(error: CheckFailed) -> Refused:
    return Refused(
        error.check,
        N_("The trustee's message was refused ({check}): {reason}"),
        check=error.check,
        reason=str(error),
    )


async def _mine(
    principal: Principal, ballot_id: int
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    row = await get_row(ballot_id)
    trustees = await trustees_of(ballot_id)
    me = next((tr for tr in trustees if tr["user"] == principal.id), None)
    if me is None:
        raise Forbidden(N_("You are not a trustee of this ballot."))
    return row, me, trustees


def _stage(row: dict[str, Any], *allowed: BallotStatus) -> None:
    if row["status"] not in {s.value for s in allowed}:
        raise Conflict(
            N_("This step does not fit the ballot's present state ({status})."), status=row["status"]
        )


async def state(principal: Principal, ballot_id: int) -> dict[str, Any]:
    """Everything trustee `principal` needs for her next step (public values only)."""
    row, me, trustees = await _mine(principal, ballot_id)
    all_dealt = all(tr["commitments"] for tr in trustees)
    out: dict[str, Any] = {
        "ballot_id": ballot_id,
        "title": row["title"],
        "status": row["status"],
        "failure": row["failure"],
        "index": me["position"],
        "t": row["t"],
        "n": row["n"],
        "f0": row["f0"] or None,
        "fingerprint": row["fingerprint"] or None,
        "parameters": loads(row["parameters"]),
        "trustees": [
            {
                "index": tr["position"],
                "name": tr["name"],
                "box_key": tr["box_key"] or None,
                "dealt": bool(tr["commitments"]),
                "checked": tr["checked_at"] is not None,
                "share_posted": tr["share_posted_at"] is not None,
            }
            for tr in trustees
        ],
        "dealings": None,
        "sealed_to_me": None,
        "sums": loads(row["sums"]),
        "verification_key": None,
    }
    if all_dealt:
        out["dealings"] = {
            str(tr["position"]): {"commitments": loads(tr["commitments"]), "pok": loads(tr["pok"])}
            for tr in trustees
        }
        out["sealed_to_me"] = {
            str(tr["position"]): loads(tr["sealed"])[str(me["position"])] for tr in trustees
        }
    if row["manifest"]:
        out["verification_key"] = loads(row["manifest"])["verification_keys"][str(me["position"])]
    return out


async def register_box_key(principal: Principal, ballot_id: int, box_key: str) -> None:
    row, me, trustees = await _mine(principal, ballot_id)
    _stage(row, BallotStatus.keygen)
    try:
        raw = hex_bytes(box_key, 32, "box_key")
    except CheckFailed as error:
        raise _refuse(error) from None
    if raw == bytes(32):
        raise Refused("encoding", N_("The box key is not a usable X25519 public key."))
    if me["box_key"]:
        raise Conflict(N_("Your box key is already registered."))
    if any(tr["box_key"] == box_key for tr in trustees):
        raise Conflict(N_("Another trustee registered this box key."))
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        _stage(locked, BallotStatus.keygen)
        await Trustee.update({Trustee.box_key: box_key}).where(Trustee.id == me["id"])
        await audit.record(
            principal.actor,
            "register_box_key",
            "ballot",
            ballot_id,
            {"trustee": me["position"], "box_key": box_key},
        )
        trustees = await trustees_of(ballot_id)
        if all(tr["box_key"] for tr in trustees):
            params = ballot_parameters(row, trustees)
            f0 = f0_of(params).hex()
            await Ballot.update({Ballot.parameters: dumps(params), Ballot.f0: f0}).where(
                Ballot.id == ballot_id
            )
            await audit.record(principal.actor, "fix_parameters", "ballot", ballot_id, {"F0": f0})


async def post_dealing(
    principal: Principal, ballot_id: int, *, commitments: object, pok: object, sealed: object
) -> None:
    row, me, trustees = await _mine(principal, ballot_id)
    _stage(row, BallotStatus.keygen)
    if not row["f0"]:
        raise Conflict(N_("Wait until every trustee has registered a box key."))
    if me["commitments"]:
        raise Conflict(N_("Your dealing is already posted."))
    j = me["position"]
    try:
        points = keys.commitments_from_json(commitments, f"trustee {j}.commitments")
        proof = ChallengeResponse.from_json(pok, f"trustee {j}.pok")
        keys.verify_commitments(bytes.fromhex(row["f0"]), j, row["t"], points, proof)
        if not isinstance(sealed, dict) or set(sealed) != {str(tr["position"]) for tr in trustees}:
            raise CheckFailed("shape", f"trustee {j}: one sealed share for each trustee 1..{row['n']}")
        boxes = {k: hex_bytes(v, SEALED_BYTES, f"trustee {j}.sealed[{k}]").hex() for k, v in sealed.items()}
    except CheckFailed as error:
        raise _refuse(error) from None
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        _stage(locked, BallotStatus.keygen)
        updated = (
            await Trustee.update(
                {
                    Trustee.commitments: dumps([p.hex() for p in points]),
                    Trustee.pok: dumps(proof.to_json()),
                    Trustee.sealed: dumps(boxes),
                }
            )
            .where((Trustee.id == me["id"]) & (Trustee.commitments == ""))
            .returning(Trustee.id)
        )
        if not updated:
            raise Conflict(N_("Your dealing is already posted."))
        await audit.record(
            principal.actor,
            "post_dealing",
            "ballot",
            ballot_id,
            {"trustee": j, "commitments": [p.hex() for p in points]},
        )


async def confirm_shares(principal: Principal, ballot_id: int) -> None:
    """The trustee opened every share sealed to her and each matched its dealer's commitments."""
    row, me, trustees = await _mine(principal, ballot_id)
    _stage(row, BallotStatus.keygen)
    if not all(tr["commitments"] for tr in trustees):
        raise Conflict(N_("Wait until every trustee has posted a dealing."))
    if me["checked_at"] is not None:
        raise Conflict(N_("You have already confirmed your shares."))
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        _stage(locked, BallotStatus.keygen)
        await Trustee.update({Trustee.checked_at: now()}).where(Trustee.id == me["id"])
        await audit.record(
            principal.actor, "confirm_shares", "ballot", ballot_id, {"trustee": me["position"]}
        )
        remaining = await Trustee.count().where((Trustee.ballot == ballot_id) & Trustee.checked_at.is_null())
        if remaining == 0:
            await Ballot.update({Ballot.status: BallotStatus.ready.value}).where(Ballot.id == ballot_id)
            await audit.record(principal.actor, "key_ready", "ballot", ballot_id, {})


async def complain(principal: Principal, ballot_id: int, *, dealer: int, reason: str) -> str:
    """A share that failed its check stops the set-up; the message names both trustees."""
    row, me, trustees = await _mine(principal, ballot_id)
    _stage(row, BallotStatus.keygen)
    accused = next((tr for tr in trustees if tr["position"] == dealer), None)
    if accused is None:
        raise NotFound(N_("No trustee with index {index}."), index=dealer)
    failure = (
        f"trustee {me['position']} ({me['name']}) found that the share from trustee "
        f"{dealer} ({accused['name']}) fails its check: {reason.strip()[:500] or 'no reason given'}"
    )
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        _stage(locked, BallotStatus.keygen)
        await Ballot.update({Ballot.status: BallotStatus.failed.value, Ballot.failure: failure}).where(
            Ballot.id == ballot_id
        )
        await audit.record(
            principal.actor,
            "complain_share",
            "ballot",
            ballot_id,
            {"trustee": me["position"], "dealer": dealer, "reason": reason[:500]},
        )
    return failure


async def post_shares(principal: Principal, ballot_id: int, shares_json: object) -> dict[str, Any]:
    """Trustee j's decryption shares for every sum; the t-th publishes the result."""
    row, me, _ = await _mine(principal, ballot_id)
    _stage(row, BallotStatus.closed)
    if me["share_posted_at"] is not None:
        raise Conflict(N_("Your decryption share is already on the board."))
    j = me["position"]
    manifest = loads(row["manifest"])
    fingerprint = bytes.fromhex(row["fingerprint"])
    sums = sums_from_json(loads(row["sums"]))
    try:
        shares = tally.shares_from_json(shares_json)
        vk = Point.from_hex(manifest["verification_keys"][str(j)], f"V_{j}")
        tally.verify_decryption_shares(fingerprint, j, vk, sums, shares)
    except CheckFailed as error:
        raise _refuse(error) from None
    payload = {"trustee": j, "shares": tally.shares_to_json(shares)}
    published = False
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        _stage(locked, BallotStatus.closed)
        updated = (
            await Trustee.update({Trustee.share_posted_at: now()})
            .where((Trustee.id == me["id"]) & Trustee.share_posted_at.is_null())
            .returning(Trustee.id)
        )
        if not updated:
            raise Conflict(N_("Your decryption share is already on the board."))
        entry = await ballot_board.append(locked, "share", payload)
        await audit.record(
            principal.actor, "post_decryption_share", "ballot", ballot_id, {"trustee": j, "seq": entry["seq"]}
        )
        posted = [
            json.loads(r["payload"])
            for r in await BoardEntry.select(BoardEntry.payload)
            .where((BoardEntry.ballot == ballot_id) & (BoardEntry.kind == "share"))
            .order_by(BoardEntry.seq)
        ]
        if len(posted) >= row["t"]:
            result = await results.publish_secret(locked, row, posted)
            await audit.record(
                principal.actor,
                "publish_result",
                "ballot",
                ballot_id,
                {"head": result["head"], "counts": result["counts"]},
            )
            published = True
    return {"seq": entry["seq"], "published": published}


async def restart_keygen(principal: Principal, ballot_id: int) -> None:
    """After a complaint: every trustee deals afresh (box keys and F₀ stay, dealings go)."""
    from council.ballots.service import managed

    row = await get_row(ballot_id)
    managed(principal, row)
    _stage(row, BallotStatus.failed)
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        _stage(locked, BallotStatus.failed)
        await Trustee.update(
            {Trustee.commitments: "", Trustee.pok: "", Trustee.sealed: "", Trustee.checked_at: None}
        ).where(Trustee.ballot == ballot_id)
        await Ballot.update({Ballot.status: BallotStatus.keygen.value, Ballot.failure: ""}).where(
            Ballot.id == ballot_id
        )
        await audit.record(
            principal.actor, "restart_keygen", "ballot", ballot_id, {"failure": row["failure"]}
        )
        from council.ballots import notices

        await notices.trustees_called(ballot_id)
