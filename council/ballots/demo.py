"""The demo community's ballots (民事民决), played through the service code.

- A FINISHED secret ballot on the accepted parking proposal: turn the east lawn into
  green parking, one vote per household. Trustees supervisor1–3, t = 2. 130 of the 204
  households vote (the residents with demo accounts among them, when they are their
  household's representative), one voter audits a ballot first (Benaloh), one revotes;
  the host closes it and supervisor1 and supervisor3 post their decryption shares.
- A FINISHED open (roll-call) ballot of the council on the accepted elevator proposal:
  the host and member1–8 vote by name; counted at close.
- An OPEN secret ballot (the micro-renewal budget, one vote per resident) that closes in a
  week, its key ready, a few ballots already in, for resident1–5 (and every other demo
  account) to vote in the browser.

The demo plays every trustee in this process. The finished ballots' records verify
(`council ballots export ID`, then `council verify`); their trustees' secrets are dropped.
The open ballot's trustees' secrets ARE kept, in the trustees' own key-file format
(council/ballots/keyfile.py), one file per supervisor under `<data dir>/demo-trustees/`
(var/ by default), sealed with the demo password. The reason: without them the ballot
residents vote on in the browser could never be tallied (nobody could decrypt it, which is
the point of the threshold key), and with them the demo goes through the trustees' real
tool on it. After the host closes it, two supervisors each run, with their API token:

    COUNCIL_TRUSTEE_KEY_FILE=var/demo-trustees/supervisor1.json \
    COUNCIL_TRUSTEE_PASSPHRASE=council-demo council trustee decrypt --ballot ID

This is for a demo only: a real trustee's secrets live only in her key file on her own
machine, never beside the server. The files use Argon2id's interactive limits, not the
trustee tool's default, to keep `council demo` fast.

Voters without a demo account are principals built here (the audit log names them
`demo:<alias>`): casting needs only the resident on the roster.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nacl.pwhash import argon2id

from council.accounts import login
from council.accounts.principal import Principal
from council.accounts.tables import User
from council.ballots import casting, drafts, queries, service, trustee_client
from council.ballots.keyfile import KeyFile
from council.ballots.simulation import cast_encrypted, key_ceremony, post_decryptions, trustee_principals
from council.ballots.tables import BallotSecrecy, RosterEntry, WeightBasis
from council.proposals.tables import Proposal

YES, NO, ABSTAIN = [1, 0, 0], [0, 1, 0], [0, 0, 1]
YES_NO_ABSTAIN = ["赞成", "反对", "弃权"]

PARKING_TITLE = "东侧闲置绿地改建生态停车位"
PARKING_VOTERS = {"yes": 85, "no": 36, "abstain": 9}  # first ballots; then one "no" revotes "yes"
PARKING_COUNTS = [[86, 35, 9]]

ELEVATOR_TITLE = "加装电梯费用分摊办法（议事会表决）"
ELEVATOR_VOTES = {
    "host": YES,
    "member1": YES,
    "member2": YES,
    "member3": NO,
    "member4": YES,
    "member5": YES,
    "member6": ABSTAIN,
    "member7": YES,
    "member8": NO,
}
ELEVATOR_COUNTS = [[6, 2, 1]]

BUDGET_TITLE = "2026年小区微更新项目投票"
BUDGET_QUESTION = {
    "text": "微更新项目（预算 10 万元，可多选，总额不超过预算）",
    "options": [
        "楼道照明改造（3 万元）",
        "休闲座椅（2 万元）",
        "中心花园绿化补植（5 万元）",
        "非机动车棚（4 万元）",
    ],
    "min": 0,
    "max": 4,
    "costs": [3, 2, 5, 4],
    "budget": 10,
}
BUDGET_EARLY_CHOICES = [
    [1, 1, 1, 0],
    [1, 0, 0, 1],
    [0, 1, 1, 0],
    [1, 1, 0, 1],
    [0, 0, 1, 0],
    [1, 0, 1, 0],
    [1, 1, 1, 0],
    [0, 1, 0, 1],
]  # cast by residents without demo accounts, before anyone logs in


@dataclass
class DemoBallots:
    parking: int
    elevator: int
    budget: int


async def _who(username: str) -> Principal:
    row = await User.select(User.id).where(User.username == username).first()
    assert row is not None, username
    principal = await login.load_principal(row["id"])
    assert principal is not None
    return principal


async def _proposal(title: str) -> int | None:
    row = await Proposal.select(Proposal.id).where(Proposal.title == title).first()
    return None if row is None else int(row["id"])


async def _roster(ballot_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await RosterEntry.select(RosterEntry.alias, RosterEntry.resident)
        .where(RosterEntry.ballot == ballot_id)
        .order_by(RosterEntry.position)
    )
    return rows


async def _voters(entries: Sequence[dict[str, Any]]) -> dict[str, Principal]:
    """A principal per roster alias: the resident's demo account, or one built here."""
    accounts = {
        row["resident"]: row["id"]
        for row in await User.select(User.id, User.resident).where(User.resident.is_not_null())
    }
    out: dict[str, Principal] = {}
    for entry in entries:
        user_id = accounts.get(entry["resident"])
        principal = await login.load_principal(user_id) if user_id is not None else None
        out[entry["alias"]] = principal or Principal(
            id=0,
            username=f"demo:{entry['alias']}",
            display_name=entry["alias"],
            locale="",
            resident_id=entry["resident"],
        )
    return out


async def _secret_ballot(
    host: Principal, supervisors: Sequence[Principal], **fields: Any
) -> tuple[int, dict[str, Any], dict[int, trustee_client.TrusteeSecrets]]:
    """Creates a secret ballot, runs the trustees' key ceremony and opens it."""
    now = datetime.now(UTC)
    ballot_id = await drafts.create(
        host,
        secrecy=BallotSecrecy.secret,
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=7),
        trustee_ids=[s.id for s in supervisors],
        threshold=2,
        **fields,
    )
    await service.setup(host, ballot_id)
    kept = await key_ceremony(ballot_id, await trustee_principals(ballot_id))
    await service.open_ballot(host, ballot_id)
    return ballot_id, await queries.manifest(host, ballot_id), kept


async def _parking(scope: int, host: Principal, supervisors: Sequence[Principal], rng: random.Random) -> int:
    ballot_id, manifest, kept = await _secret_ballot(
        host,
        supervisors,
        title=PARKING_TITLE,
        description="议事会采纳了“小区停车位严重不足”的提议：把东侧闲置绿地改建为生态停车位（植草砖），"
        "并安排夜间巡查。按户表决，每户由户代表投一票。",
        scope_id=scope,
        weight_basis=WeightBasis.household,
        questions=[{"text": "是否同意把东侧闲置绿地改建为生态停车位？", "options": YES_NO_ABSTAIN}],
        rule={"preset": "resident_meeting", "abstain_option": 2},
        proposal_id=await _proposal("小区停车位严重不足"),
    )
    entries = await _roster(ballot_id)
    voters = await _voters(entries)
    with_accounts = [e for e in entries if voters[e["alias"]].id]
    others = [e for e in entries if not voters[e["alias"]].id]
    total = sum(PARKING_VOTERS.values())
    chosen = with_accounts + rng.sample(others, total - len(with_accounts))
    choices = (
        [YES] * PARKING_VOTERS["yes"] + [NO] * PARKING_VOTERS["no"] + [ABSTAIN] * PARKING_VOTERS["abstain"]
    )
    rng.shuffle(choices)
    for k, (entry, choice) in enumerate(zip(chosen, choices, strict=True)):
        alias = entry["alias"]
        if k == 0:  # audits a ballot first, checks it, then casts a fresh one
            await cast_encrypted(voters[alias], ballot_id, manifest, alias, [NO], audit=True)
        await cast_encrypted(voters[alias], ballot_id, manifest, alias, [choice])
    revoter = next(e["alias"] for e, c in zip(chosen, choices, strict=True) if c == NO)
    await cast_encrypted(voters[revoter], ballot_id, manifest, revoter, [YES])
    await service.close(host, ballot_id, early=True)
    await post_decryptions(ballot_id, await trustee_principals(ballot_id), kept, [1, 3])
    return ballot_id


async def _elevator(scope: int, host: Principal) -> int:
    now = datetime.now(UTC)
    ballot_id = await drafts.create(
        host,
        title=ELEVATOR_TITLE,
        description="3栋1单元加装电梯：议事会成员记名表决，是否同意按楼层递增的办法分摊费用"
        "（一楼、二楼住户不出资），再提交单元业主协商。",
        scope_id=scope,
        secrecy=BallotSecrecy.open,
        weight_basis=WeightBasis.resident,
        questions=[{"text": "是否同意按楼层递增的办法分摊加装电梯的费用？", "options": YES_NO_ABSTAIN}],
        rule={"quorum": None, "abstain_option": 2},
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=3),
        proposal_id=await _proposal("加装电梯的费用怎么分摊"),
    )
    await service.open_ballot(host, ballot_id)
    for username, choice in ELEVATOR_VOTES.items():
        await casting.vote(await _who(username), ballot_id, [choice])
    await service.close(host, ballot_id, early=True)
    return ballot_id


def keep_secrets(key_dir: Path, passphrase: str, kept: dict[int, trustee_client.TrusteeSecrets]) -> None:
    """supervisor<j>.json: trustee j's key file, as `council trustee keygen` would have written it."""
    key_dir.mkdir(parents=True, exist_ok=True)
    for index, secrets in kept.items():
        path = key_dir / f"supervisor{index}.json"
        path.unlink(missing_ok=True)  # a previous demo's, for a database that is gone
        key_file = KeyFile.create(
            path, passphrase, opslimit=argon2id.OPSLIMIT_INTERACTIVE, memlimit=argon2id.MEMLIMIT_INTERACTIVE
        )
        key_file.ballots[secrets.ballot_id] = secrets
        key_file.save()


async def _budget(
    scope: int,
    host: Principal,
    supervisors: Sequence[Principal],
    rng: random.Random,
    key_dir: Path,
    passphrase: str,
) -> int:
    ballot_id, manifest, kept = await _secret_ballot(
        host,
        supervisors,
        title=BUDGET_TITLE,
        description="居民提出的微更新项目，预算共 10 万元。每位居民可以选择多个项目，所选项目总额不超过预算；"
        "按得票多少依次安排，直到用完预算。投票在浏览器中加密，服务器看不到您的选择。",
        scope_id=scope,
        weight_basis=WeightBasis.resident,
        questions=[BUDGET_QUESTION],
        rule={},
    )
    keep_secrets(key_dir, passphrase, kept)
    entries = await _roster(ballot_id)
    voters = await _voters(entries)
    early = rng.sample([e for e in entries if not voters[e["alias"]].id], len(BUDGET_EARLY_CHOICES))
    for entry, choice in zip(early, BUDGET_EARLY_CHOICES, strict=True):
        alias = entry["alias"]
        await cast_encrypted(voters[alias], ballot_id, manifest, alias, [choice])
    return ballot_id


async def load(community_id: int, key_dir: Path, passphrase: str) -> DemoBallots:
    """The demo community's ballots; needs its accounts and proposals (council/demo.py).
    The open ballot's trustees' key files go to key_dir, sealed with passphrase."""
    rng = random.Random(20261124)
    host = await _who("host")
    supervisors = [await _who(f"supervisor{k}") for k in (1, 2, 3)]
    parking = await _parking(community_id, host, supervisors, rng)
    elevator = await _elevator(community_id, host)
    budget = await _budget(community_id, host, supervisors, rng, key_dir, passphrase)
    return DemoBallots(parking=parking, elevator=elevator, budget=budget)
