"""A whole election through the service code, on the current database (no HTTP).

`simulate_election` builds a community (roster services: places, then the residents by CSV
import, as staff would), a host and n supervisor trustees with accounts (random passwords
nobody knows), creates the ballot (drafts.create), runs the trustees' key ceremony with
the trustees' own computations (trustee_client: box keys, dealings, share checks), opens
it, casts the ballots of a chosen turnout with the Python client (encrypt.encrypt_ballot →
casting.cast), some Benaloh audits (casting.spoil) and revotes, closes it, posts t
trustees' decryption shares (trustees.post_shares) and returns the record
(export.record_of) with the counts the plaintext choices must give. Open (roll-call)
ballots go through casting.vote instead.

Voters need no accounts: casting only asks the principal's resident id, so each voter is
a Principal built directly (id 0: the audit log names her `sim:<alias>`), which spares
thousands of argon2 hashes. The trustees' secrets live in this process, so a simulated
election proves nothing about trust: it exercises the server's code and makes records the
verifier must accept. The seed fixes the roster, who votes and every choice; the
encryption's randomness always comes from the operating system.

`key_ceremony`, `cast_encrypted` and `post_decryptions` are reused by the demo
(council/ballots/demo.py).
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from council.accounts import login
from council.accounts import service as accounts
from council.accounts.principal import Grant, Principal
from council.accounts.tables import Role
from council.ballots import casting, drafts, export, queries, service, trustee_client, trustees
from council.ballots.__main__ import QUESTIONS
from council.ballots.election import random_selection
from council.ballots.encrypt import answers_to_json, encrypt_ballot
from council.ballots.group import Point
from council.ballots.record import Record, question_shapes
from council.ballots.tables import BallotSecrecy, RosterEntry, WeightBasis
from council.community import roster_csv
from council.community import service as roster
from council.community.tables import Node, NodeKind
from council.settings import Settings

METHODS = tuple(QUESTIONS)
COMMUNITY_PREFIX = "模拟社区"
HOUSEHOLDS_PER_UNIT = 24  # six floors of four flats
UNITS_PER_BUILDING = 2
# Residents per CSV file. The import inserts a file's residents in one statement, and
# PostgreSQL takes at most 32767 parameters in one: about 4000 residents of 8 columns.
IMPORT_ROWS = 2000

OPERATOR = Principal(
    id=0,
    username="simulation",
    display_name="simulation",
    locale="",
    resident_id=None,
    grants=(Grant(Role.admin, 0, "/", "*"),),
)


@dataclass
class Simulation:
    """What simulate_election did, and the record it made."""

    ballot_id: int
    secrecy: str
    methods: tuple[str, ...]
    record: Record
    roster: int  # roster entries (voters eligible)
    voted: int  # aliases that cast at least one counted ballot or vote
    ballots: int  # ballots (or votes) on the board, revotes included
    audits: int  # Benaloh audits (spoiled ballots) on the board
    revotes: int
    expected: list[list[int]]  # counts from the plaintext choices: last ballot per alias, weighted
    shares_from: list[int]  # the trustees whose decryption shares made the result
    seconds: dict[str, float] = field(default_factory=dict)


def rule_for(methods: Sequence[str], preset: str) -> dict[str, Any]:
    """The outcome rule `council ballots simulate` uses: the preset with abstentions for a
    first yes/no/abstain question, the defaults of council/ballots/rules.py otherwise."""
    if methods and methods[0] == "yes_no_abstain":
        return {"preset": preset, "abstain_option": 2}
    return {}


def voter_principal(alias: str, resident_id: int) -> Principal:
    """A voter without an account: casting needs only her resident id."""
    return Principal(
        id=0, username=f"sim:{alias}", display_name=alias, locale="", resident_id=resident_id, grants=()
    )


async def make_user(settings: Settings, username: str, grants: list[tuple[Role, int]]) -> Principal:
    """An account with a random password nobody knows (it cannot log in), and its principal."""
    user = await accounts.create_user_with_password(
        settings,
        OPERATOR.actor,
        username=username,
        display_name=username,
        password=secrets.token_urlsafe(24),
        grants=grants,
    )
    principal = await login.load_principal(int(user.id))
    assert principal is not None
    return principal


def household_sizes(rng: random.Random, voters: int, weight_basis: WeightBasis) -> list[int]:
    """Residents per household: `voters` households (household basis) or `voters` residents."""
    if weight_basis is WeightBasis.household:
        return [rng.choice((1, 2, 2, 3)) for _ in range(voters)]
    sizes: list[int] = []
    left = voters
    while left > 0:
        sizes.append(min(left, rng.choice((1, 2, 2, 3))))
        left -= sizes[-1]
    return sizes


async def build_community(rng: random.Random, voters: int, weight_basis: WeightBasis) -> dict[str, Any]:
    """A community with one grid, buildings of two units of 24 flats, and its residents
    imported as a staff member's CSV, IMPORT_ROWS rows a file."""
    number = 1 + await Node.count().where(Node.name.like(f"{COMMUNITY_PREFIX}%"))
    community = await roster.add_node(
        OPERATOR, name=f"{COMMUNITY_PREFIX}{number}", kind=NodeKind.community, parent_id=None
    )
    grid = await roster.add_node(OPERATOR, name="模拟网格", kind=NodeKind.grid, parent_id=community["id"])
    sizes = household_sizes(rng, voters, weight_basis)
    per_building = HOUSEHOLDS_PER_UNIT * UNITS_PER_BUILDING
    for b in range(1, math.ceil(len(sizes) / per_building) + 1):
        place = await roster.add_node(OPERATOR, name=f"{b}栋", kind=NodeKind.building, parent_id=grid["id"])
        for u in range(1, UNITS_PER_BUILDING + 1):
            await roster.add_node(OPERATOR, name=f"{u}单元", kind=NodeKind.unit, parent_id=place["id"])
    header = ",".join(roster_csv.COLUMNS)
    rows: list[str] = []
    for h, size in enumerate(sizes):
        building, rest = divmod(h, per_building)
        unit, flat = divmod(rest, HOUSEHOLDS_PER_UNIT)
        floor, room = divmod(flat, 4)
        for person in range(size):
            code = f"S{community['id']}-{len(rows) + 1}"
            rows.append(
                f"{code},模拟居民{len(rows) + 1},,模拟网格,{building + 1}栋,{unit + 1}单元,"
                f"{floor + 1}0{room + 1},{'是' if person == 0 else '否'}"
            )
    for start in range(0, len(rows), IMPORT_ROWS):
        text = "\n".join([header, *rows[start : start + IMPORT_ROWS]]) + "\n"
        result = await roster_csv.import_residents(
            OPERATOR, community["id"], text.encode("utf-8"), f"simulation-{start}.csv"
        )
        if not result.ok:
            raise RuntimeError(f"the simulated roster did not import: {result.problems[:3]}")
    return community


async def key_ceremony(
    ballot_id: int, people: Mapping[int, Principal]
) -> dict[int, trustee_client.TrusteeSecrets]:
    """Every trustee's part of the key generation, in turn, as `council trustee` does it;
    `people` maps each trustee's index to her principal. Returns her secrets by index."""
    kept: dict[int, trustee_client.TrusteeSecrets] = {}
    for index, principal in people.items():
        state = await trustees.state(principal, ballot_id)
        assert state["index"] == index, f"trustee {index} is listed as {state['index']}"
        kept[index] = trustee_client.new_secrets(ballot_id, index)
        await trustees.register_box_key(principal, ballot_id, kept[index].box_public)
    for index, principal in people.items():
        body = trustee_client.dealing(await trustees.state(principal, ballot_id), kept[index])
        await trustees.post_dealing(principal, ballot_id, **body)
    for index, principal in people.items():
        trustee_client.check_shares(await trustees.state(principal, ballot_id), kept[index])
        await trustees.confirm_shares(principal, ballot_id)
    return kept


async def trustee_principals(ballot_id: int) -> dict[int, Principal]:
    """The ballot's trustees' principals by index."""
    out: dict[int, Principal] = {}
    for row in await service.trustees_of(ballot_id):
        principal = await login.load_principal(row["user"])
        assert principal is not None
        out[row["position"]] = principal
    return out


async def post_decryptions(
    ballot_id: int,
    people: Mapping[int, Principal],
    kept: Mapping[int, trustee_client.TrusteeSecrets],
    indexes: Sequence[int],
) -> None:
    """Trustees `indexes` post their decryption shares; the t-th publishes the result."""
    for index in indexes:
        state = await trustees.state(people[index], ballot_id)
        body = trustee_client.decryption(state, kept[index])
        await trustees.post_shares(people[index], ballot_id, body["shares"])


async def cast_encrypted(
    principal: Principal,
    ballot_id: int,
    manifest: Mapping[str, Any],
    alias: str,
    selections: Sequence[Sequence[int]],
    *,
    audit: bool = False,
) -> dict[str, Any]:
    """Encrypts as the voter's browser does and casts (or, audit=True, spoils) the ballot."""
    answers, reveals = await asyncio.to_thread(
        encrypt_ballot,
        bytes.fromhex(manifest["fingerprint"]),
        alias,
        question_shapes(manifest["questions"]),
        Point.from_hex(manifest["public_key"]),
        selections,
    )
    if audit:
        return await casting.spoil(
            principal, ballot_id, answers_to_json(answers), [r.to_json() for r in reveals]
        )
    return await casting.cast(principal, ballot_id, answers_to_json(answers))


class _Progress:
    def __init__(self, total: int, every: int, say: Callable[[str], None]) -> None:
        self.total, self.every, self.say = total, every, say
        self.done = 0
        self.started = time.perf_counter()

    def tick(self) -> None:
        self.done += 1
        if self.every and self.done % self.every == 0:
            rate = self.done / max(time.perf_counter() - self.started, 1e-9)
            self.say(f"simulate: {self.done}/{self.total} ballots ({rate:.0f}/s)")


async def _run_all(
    work: Sequence[tuple[dict[str, Any], list[list[list[int]]], list[list[int]]]],
    act: Callable[[dict[str, Any], list[list[list[int]]], list[list[int]]], Awaitable[None]],
    concurrency: int,
) -> None:
    """Runs act over work in order, `concurrency` voters at a time."""
    queue = iter(work)

    async def worker() -> None:
        for item in queue:
            await act(*item)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def simulate_election(
    *,
    voters: int = 12,
    trustees: int = 3,
    threshold: int | None = None,
    methods: Sequence[str] = ("yes_no_abstain",),
    secrecy: BallotSecrecy = BallotSecrecy.secret,
    weight_basis: WeightBasis = WeightBasis.household,
    turnout: float = 0.8,
    audits: int = 1,
    revotes: int = 1,
    preset: str = "resident_meeting",
    seed: int | None = None,
    settings: Settings | None = None,
    progress_every: int = 1000,
    concurrency: int = 1,
    say: Callable[[str], None] = _stderr,
) -> Simulation:
    """Runs a whole election through the services on the current database; see the module
    docstring. Open ballots take no trustees and no audits. With concurrency > 1 that many
    voters cast at once (the server's locks order them), and the encryption runs in threads."""
    unknown = [m for m in methods if m not in QUESTIONS]
    if unknown or not methods:
        raise ValueError(f"methods are among {', '.join(METHODS)}; not {', '.join(unknown) or 'none'}")
    if voters < 1 or not 0 <= turnout <= 1:
        raise ValueError("at least one voter, and a turnout between 0 and 1")
    secret = secrecy is BallotSecrecy.secret
    settings = settings or Settings.from_env()
    rng = random.Random(seed)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = now - clock
        clock = now

    community = await build_community(rng, voters, weight_basis)
    cid = community["id"]
    tag = f"sim{cid}"
    host = await make_user(settings, f"{tag}-host", [(Role.council_member, cid)])
    people: dict[int, Principal] = {}
    if secret:
        for j in range(1, trustees + 1):
            people[j] = await make_user(settings, f"{tag}-trustee{j}", [(Role.supervisor, cid)])
    lap("community")

    questions = [QUESTIONS[m] for m in methods]
    start = datetime.now(UTC)
    ballot_id = await drafts.create(
        host,
        title=f"{COMMUNITY_PREFIX}{cid} 表决（{'、'.join(methods)}）",
        description="council.ballots.simulation",
        scope_id=cid,
        secrecy=secrecy,
        weight_basis=weight_basis,
        questions=questions,
        rule=rule_for(methods, preset),
        opens_at=start - timedelta(minutes=1),
        closes_at=start + timedelta(days=1),
        trustee_ids=[p.id for p in people.values()],
        threshold=threshold,
    )
    kept: dict[int, trustee_client.TrusteeSecrets] = {}
    if secret:
        await service.setup(host, ballot_id)
        kept = await key_ceremony(ballot_id, people)
    lap("keygen")
    await service.open_ballot(host, ballot_id)
    manifest = await queries.manifest(host, ballot_id)
    shapes = question_shapes(manifest["questions"])
    entries = await (
        RosterEntry.select(RosterEntry.alias, RosterEntry.resident, RosterEntry.weight)
        .where(RosterEntry.ballot == ballot_id)
        .order_by(RosterEntry.position)
    )
    lap("open")

    # Every choice is drawn here, in order, so the seed fixes them whatever the concurrency.
    chosen = rng.sample(entries, round(len(entries) * turnout))
    auditors = {e["alias"] for e in rng.sample(chosen, min(audits, len(chosen)))} if secret else set()
    revoters = rng.sample(chosen, min(revotes, len(chosen)))

    def draw() -> list[list[int]]:
        return [random_selection(rng, shape) for shape in shapes]

    first = [(entry, ([draw()] if entry["alias"] in auditors else []), draw()) for entry in chosen]
    second: list[tuple[dict[str, Any], list[list[list[int]]], list[list[int]]]] = [
        (entry, [], draw()) for entry in revoters
    ]
    last: dict[str, list[list[int]]] = {}
    progress = _Progress(len(chosen) + len(auditors) + len(revoters), progress_every, say)

    async def act(entry: dict[str, Any], spoiled: list[list[list[int]]], selections: list[list[int]]) -> None:
        principal = voter_principal(entry["alias"], entry["resident"])
        for audited in spoiled:  # Benaloh: audit a ballot, then encrypt afresh and cast
            await cast_encrypted(principal, ballot_id, manifest, entry["alias"], audited, audit=True)
            progress.tick()
        if secret:
            await cast_encrypted(principal, ballot_id, manifest, entry["alias"], selections)
        else:
            await casting.vote(principal, ballot_id, selections)
        last[entry["alias"]] = selections
        progress.tick()

    for phase in (first, second):  # every first ballot, then the revotes
        await _run_all(phase, act, concurrency)
    lap("casting")

    await service.close(host, ballot_id, early=True)
    lap("close")
    shares_from: list[int] = []
    if secret:
        t = int(manifest["t"])
        shares_from = sorted(rng.sample(sorted(people), t))
        await post_decryptions(ballot_id, people, kept, shares_from)
    lap("tally")
    record = await export.record_of(ballot_id)
    lap("export")

    weights = {e["alias"]: e["weight"] for e in entries}
    expected = [[0] * shape.options for shape in shapes]
    for alias, selections in last.items():
        for q, marks in enumerate(selections):
            for k, mark in enumerate(marks):
                expected[q][k] += weights[alias] * mark
    return Simulation(
        ballot_id=ballot_id,
        secrecy=secrecy.value,
        methods=tuple(methods),
        record=record,
        roster=len(entries),
        voted=len(last),
        ballots=len(chosen) + len(revoters),
        audits=len(auditors),
        revotes=len(revoters),
        expected=expected,
        shares_from=shares_from,
        seconds=seconds,
    )
