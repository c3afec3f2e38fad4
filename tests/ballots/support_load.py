"""An open secret ballot with many voters, fast, and a real `council serve` to cast on.

`prepare(voters)` writes straight into the configured database (COUNCIL_DATABASE_URL):
the people are fixtures inserted in batches (nodes, residents, accounts without a
password, their resident role: no argon2 hash, no audit entry, as the proposals
benchmark seeds its rows), each voter gets a personal API token from
`council.accounts.tokens.create_token`, and the ballot goes through the services
(create, setup, the trustees' ceremony with trustee_client, open) as the HTTP API
drives them. `close_and_tally` closes it and posts t decryption shares, also through
the services. `LiveServer` runs `council serve` (granian) in its own process group.

Used by tests/ballots/test_load.py, test_crash.py and tests/bench/ballots_http.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from council.accounts import login, tokens
from council.accounts.principal import Principal
from council.accounts.tables import RoleAssignment, User
from council.ballots import drafts, service, trustee_client, trustees
from council.ballots.encrypt import answers_to_json, encrypt_ballot
from council.ballots.group import Point
from council.ballots.record import question_shapes
from council.ballots.tables import Ballot, BallotSecrecy, RosterEntry, WeightBasis
from council.community.tables import Node, Resident

ROOT = Path(__file__).resolve().parents[2]
BATCH = 500  # rows per INSERT: SQLite takes at most 32766 bound values per statement
HOUSEHOLDS_PER_UNIT = 50
UNITS_PER_BUILDING = 4
YES_NO_ABSTAIN = {"text": "是否同意加装电梯？", "options": ["赞成", "反对", "弃权"], "min": 1, "max": 1}


@dataclass(frozen=True)
class Voter:
    alias: str
    token: str
    resident_id: int
    user_id: int


@dataclass
class Prepared:
    ballot_id: int
    manifest: dict[str, Any]
    voters: list[Voter]
    host: Principal
    trustees: dict[int, Principal]  # by trustee index j
    secrets: dict[int, trustee_client.TrusteeSecrets]
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "ballot_id": self.ballot_id,
            "manifest": self.manifest,
            "voters": [[v.alias, v.token, v.resident_id, v.user_id] for v in self.voters],
            "host": self.host.id,
            "trustees": {str(j): p.id for j, p in self.trustees.items()},
            "secrets": {str(j): s.to_json() for j, s in self.secrets.items()},
            "timings": self.timings,
        }

    @classmethod
    async def from_json(cls, data: dict[str, Any]) -> Prepared:
        async def principal(user_id: int) -> Principal:
            found = await login.load_principal(user_id)
            assert found is not None
            return found

        return cls(
            ballot_id=int(data["ballot_id"]),
            manifest=data["manifest"],
            voters=[Voter(a, t, r, u) for a, t, r, u in data["voters"]],
            host=await principal(int(data["host"])),
            trustees={int(j): await principal(int(u)) for j, u in data["trustees"].items()},
            secrets={int(j): trustee_client.TrusteeSecrets.from_json(s) for j, s in data["secrets"].items()},
            timings=dict(data.get("timings", {})),
        )


def _now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def pooled(size: int = 8) -> AsyncIterator[None]:
    """A PostgreSQL connection pool while preparing (without one every query outside a
    transaction connects anew); nothing on SQLite or when a pool is running already."""
    from piccolo.engine.postgres import PostgresEngine

    from council.db import engine

    db: Any = engine()
    if not isinstance(db, PostgresEngine) or db.pool is not None:
        yield
        return
    await db.start_connection_pool(min_size=1, max_size=size)
    try:
        yield
    finally:
        await db.close_connection_pool()


async def _insert(table: Any, rows: Sequence[Any]) -> None:
    for first in range(0, len(rows), BATCH):
        await table.insert(*rows[first : first + BATCH])


async def _set_paths(kind: str) -> None:
    """path = parent's path + id + '/' for every new node of one kind (one statement)."""
    await Node.raw(
        "UPDATE node SET path = (SELECT p.path FROM node p WHERE p.id = node.parent) "
        "|| CAST(node.id AS TEXT) || '/' WHERE node.kind = {} AND node.path = ''",
        kind,
    )


async def _children(parent_ids: Sequence[int], kind: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for first in range(0, len(parent_ids), BATCH):
        rows += await Node.select(Node.id, Node.name, Node.parent, Node.path).where(
            (Node.kind == kind) & Node.parent.is_in(list(parent_ids[first : first + BATCH]))
        )
    return sorted(rows, key=lambda r: int(r["id"]))


async def make_people(voters: int, *, name: str = "负载里") -> dict[str, Any]:
    """A community of `voters` households with one resident and one account each, a host
    (council member) and three supervisors. Fixtures: batched inserts, no audit entries."""
    now = _now()
    community = Node(kind="community", name=name, parent=None, path="", created_at=now)
    await community.save()
    cid = int(community.id)
    await Node.update({Node.path: f"/{cid}/"}).where(Node.id == cid)
    grid = Node(kind="grid", name="网格1", parent=cid, path="", created_at=now)
    await grid.save()
    await _set_paths("grid")
    units_needed = -(-voters // HOUSEHOLDS_PER_UNIT)
    buildings = -(-units_needed // UNITS_PER_BUILDING)
    await _insert(
        Node,
        [
            Node(kind="building", name=f"{b}栋", parent=grid.id, path="", created_at=now)
            for b in range(1, buildings + 1)
        ],
    )
    await _set_paths("building")
    building_rows = await _children([int(grid.id)], "building")
    await _insert(
        Node,
        [
            Node(kind="unit", name=f"{u}单元", parent=b["id"], path="", created_at=now)
            for b in building_rows
            for u in range(1, UNITS_PER_BUILDING + 1)
        ],
    )
    await _set_paths("unit")
    unit_rows = (await _children([int(b["id"]) for b in building_rows], "unit"))[:units_needed]
    households = []
    for k in range(voters):
        unit = unit_rows[k // HOUSEHOLDS_PER_UNIT]
        room = k % HOUSEHOLDS_PER_UNIT
        households.append(
            Node(
                kind="household",
                name=f"{room // 4 + 1:02d}{room % 4 + 1:02d}",
                parent=unit["id"],
                path="",
                created_at=now,
            )
        )
    await _insert(Node, households)
    await _set_paths("household")
    household_rows = await _children([int(u["id"]) for u in unit_rows], "household")
    assert len(household_rows) == voters
    await _insert(
        Resident,
        [
            Resident(
                code=f"LOAD{k:06d}",
                name=f"选民{k}",
                household=h["id"],
                is_representative=True,
                created_at=now,
                updated_at=now,
            )
            for k, h in enumerate(household_rows)
        ],
    )
    residents = {
        r["code"]: int(r["id"])
        for r in await Resident.select(Resident.id, Resident.code).where(Resident.code.like("LOAD%"))
    }
    staff = [
        ("host", "council_member"),
        ("sup1", "supervisor"),
        ("sup2", "supervisor"),
        ("sup3", "supervisor"),
    ]
    await _insert(
        User,
        [
            User(
                username=f"load-voter{k:06d}",
                display_name=f"选民{k}",
                resident=residents[f"LOAD{k:06d}"],
                created_at=now,
            )
            for k in range(voters)
        ]
        + [User(username=f"load-{who}", display_name=who.title(), created_at=now) for who, _ in staff],
    )
    users = {
        u["username"]: int(u["id"])
        for u in await User.select(User.id, User.username).where(User.username.like("load-%"))
    }
    roles = [
        RoleAssignment(user=users[f"load-voter{k:06d}"], role="resident", node=cid, created_at=now)
        for k in range(voters)
    ] + [
        RoleAssignment(user=users[f"load-{who}"], role=role, node=cid, created_at=now) for who, role in staff
    ]
    await _insert(RoleAssignment, roles)
    return {
        "community": cid,
        "voters": [(residents[f"LOAD{k:06d}"], users[f"load-voter{k:06d}"]) for k in range(voters)],
        "staff": {who: users[f"load-{who}"] for who, _ in staff},
    }


async def _principal(user_id: int) -> Principal:
    principal = await login.load_principal(user_id)
    assert principal is not None, f"user {user_id} is not active"
    return principal


async def make_tokens(user_ids: Sequence[int], concurrency: int = 8) -> list[str]:
    """One personal API token per user, through tokens.create_token (its audit entry too)."""
    principals = [
        Principal(id=u, username=f"load-{u}", display_name="", locale="", resident_id=None) for u in user_ids
    ]
    out: list[str] = [""] * len(principals)
    gate = asyncio.Semaphore(concurrency)

    async def one(k: int) -> None:
        async with gate:
            _, out[k] = await tokens.create_token(principals[k], "load")

    await asyncio.gather(*(one(k) for k in range(len(principals))))
    return out


async def open_secret_ballot(
    host: Principal, community_id: int, supervisors: Sequence[Principal], threshold: int = 2
) -> tuple[int, dict[int, Principal], dict[int, trustee_client.TrusteeSecrets]]:
    """Create, set up, the whole key ceremony as the trustees' CLI runs it, open."""
    now = _now()
    ballot_id = await drafts.create(
        host,
        title="加装电梯表决（负载）",
        description="",
        scope_id=community_id,
        secrecy=BallotSecrecy.secret,
        weight_basis=WeightBasis.household,
        questions=[YES_NO_ABSTAIN],
        rule={"preset": "resident_meeting", "abstain_option": 2},
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=7),
        trustee_ids=[p.id for p in supervisors],
        threshold=threshold,
    )
    await service.setup(host, ballot_id)
    by_index: dict[int, Principal] = {}
    secrets: dict[int, trustee_client.TrusteeSecrets] = {}
    for principal in supervisors:
        state = await trustees.state(principal, ballot_id)
        j = int(state["index"])
        by_index[j] = principal
        secrets[j] = trustee_client.new_secrets(ballot_id, j)
        await trustees.register_box_key(principal, ballot_id, secrets[j].box_public)
    for j, principal in by_index.items():
        body = trustee_client.dealing(await trustees.state(principal, ballot_id), secrets[j])
        await trustees.post_dealing(principal, ballot_id, **body)
    for j, principal in by_index.items():
        trustee_client.check_shares(await trustees.state(principal, ballot_id), secrets[j])
        await trustees.confirm_shares(principal, ballot_id)
    await service.open_ballot(host, ballot_id)
    return ballot_id, by_index, secrets


async def manifest_of(ballot_id: int) -> dict[str, Any]:
    row = await Ballot.select(Ballot.manifest).where(Ballot.id == ballot_id).first()
    assert row is not None and row["manifest"]
    manifest: dict[str, Any] = json.loads(row["manifest"])
    return manifest


async def prepare(voters: int) -> Prepared:
    """An open secret yes/no/abstain ballot whose `voters` voters each hold an API token."""
    timings: dict[str, float] = {}
    async with pooled():
        started = time.perf_counter()
        people = await make_people(voters)
        timings["people"] = time.perf_counter() - started
        started = time.perf_counter()
        voter_tokens = await make_tokens([u for _, u in people["voters"]])
        timings["tokens"] = time.perf_counter() - started
        started = time.perf_counter()
        host = await _principal(people["staff"]["host"])
        supervisors = [await _principal(people["staff"][f"sup{k}"]) for k in (1, 2, 3)]
        ballot_id, by_index, secrets = await open_secret_ballot(host, people["community"], supervisors)
        timings["ballot"] = time.perf_counter() - started
        aliases = {
            r["resident"]: r["alias"]
            for r in await RosterEntry.select(RosterEntry.resident, RosterEntry.alias).where(
                RosterEntry.ballot == ballot_id
            )
        }
        manifest = await manifest_of(ballot_id)
    roster = [
        Voter(aliases[resident], token, resident, user)
        for (resident, user), token in zip(people["voters"], voter_tokens, strict=True)
    ]
    return Prepared(ballot_id, manifest, roster, host, by_index, secrets, timings)


async def close_and_tally(prepared: Prepared, names: Sequence[int] = (1, 2)) -> dict[str, Any]:
    """Closes early and posts the decryption shares of trustees `names`; returns the result."""
    async with pooled():
        await service.close(prepared.host, prepared.ballot_id, early=True)
        for j in names:
            principal = prepared.trustees[j]
            body = trustee_client.decryption(
                await trustees.state(principal, prepared.ballot_id), prepared.secrets[j]
            )
            await trustees.post_shares(principal, prepared.ballot_id, body["shares"])
        row = await Ballot.select(Ballot.status, Ballot.result).where(Ballot.id == prepared.ballot_id).first()
    assert row is not None and row["status"] == "tallied", row
    result: dict[str, Any] = json.loads(row["result"])
    return result


# Ballots ------------------------------------------------------------------------------------


def choices_for(count: int, seed: int = 5) -> list[int]:
    """Each voter's option (0 yes, 1 no, 2 abstain), about 50/35/15, reproducible."""
    rng = random.Random(seed)
    return rng.choices([0, 1, 2], weights=[50, 35, 15], k=count)


def encrypted_body(manifest: dict[str, Any], alias: str, option: int) -> dict[str, Any]:
    """The JSON body of POST /api/v1/ballots/{id}/ballots, made by the Python client."""
    selection = [1 if k == option else 0 for k in range(len(manifest["questions"][0]["options"]))]
    answers, _ = encrypt_ballot(
        bytes.fromhex(manifest["fingerprint"]),
        alias,
        question_shapes(manifest["questions"]),
        Point.from_hex(manifest["public_key"]),
        [selection],
    )
    return {"answers": answers_to_json(answers)}


def bodies_for(manifest: dict[str, Any], voters: Sequence[Voter], options: Sequence[int]) -> list[bytes]:
    return [
        json.dumps(encrypted_body(manifest, v.alias, o), separators=(",", ":")).encode()
        for v, o in zip(voters, options, strict=True)
    ]


async def post_all(
    base: str,
    ballot_id: int,
    voters: Sequence[Voter],
    bodies: Sequence[bytes],
    concurrency: int,
    timeout: float = 60,
    on_answer: Callable[[int, int], None] | None = None,
) -> list[tuple[int, dict[str, Any] | None]]:
    """POSTs every body with at most `concurrency` requests in flight; (status, JSON) per
    voter, status 0 when the request itself failed (connection refused or reset).
    `on_answer(k, status)` is called after each answer."""
    import httpx

    gate = asyncio.Semaphore(concurrency)
    url = f"{base}/api/v1/ballots/{ballot_id}/ballots"
    out: list[tuple[int, dict[str, Any] | None]] = [(0, None)] * len(voters)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:

        async def one(k: int) -> None:
            async with gate:
                try:
                    response = await client.post(
                        url,
                        content=bodies[k],
                        headers={
                            "authorization": f"Bearer {voters[k].token}",
                            "content-type": "application/json",
                        },
                    )
                except httpx.HTTPError:
                    if on_answer is not None:
                        on_answer(k, 0)
                    return
                try:
                    data = response.json()
                except ValueError:
                    data = None
                out[k] = (response.status_code, data)
                if on_answer is not None:
                    on_answer(k, response.status_code)

        await asyncio.gather(*(one(k) for k in range(len(voters))))
    return out


# The server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url() -> str:
    """The URL of the database this process uses now (the tests move SQLite's file per test)."""
    from council.db import engine, is_sqlite

    if is_sqlite():
        return f"sqlite:///{Path(engine().path).resolve()}"  # type: ignore[attr-defined]
    return os.environ["COUNCIL_DATABASE_URL"]


class LiveServer:
    """`council serve` (granian) on 127.0.0.1 in its own process group; kill() ends it at once."""

    def __init__(self, url: str, work: Path, workers: int = 2, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = work / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "PICCOLO_CONF": "council.piccolo_conf",
            "COUNCIL_DATABASE_URL": url,
            "COUNCIL_DATA_DIR": str(work / "data"),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.env.pop("COUNCIL_REDIS_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        import httpx

        council = str(Path(sys.executable).parent / "council")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    council,
                    "serve",
                    "--no-migrate",
                    *("--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log_tail()}")
                try:
                    if client.get(f"{self.base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no answer on /healthz within {timeout:.0f} s:\n{self.log_tail()}")
                time.sleep(0.1)
            # Every worker answers before the load starts.
            for _ in range(4 * self.workers):
                client.get(f"{self.base}/healthz")

    def kill(self) -> None:
        """SIGKILL to the whole process group: granian's main process and its workers."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self._wait_group_gone()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self._wait_group_gone()
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        self._wait_group_gone()

    def _wait_group_gone(self, timeout: float = 10) -> None:
        """Workers may outlive the main process for a moment: wait until none is left."""
        if self.process is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def read_board(base: str, ballot_id: int) -> dict[str, Any]:
    """The whole board from GET /api/v1/ballots/{id}/board, every page: {head, length, entries}."""
    import httpx

    entries: list[dict[str, Any]] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        while True:
            page = client.get(
                f"/api/v1/ballots/{ballot_id}/board", params={"offset": len(entries), "limit": 1000}
            )
            assert page.status_code == 200, page.text
            data = page.json()
            entries += data["entries"]
            if not data["entries"] or len(entries) >= data["total"]:
                return {"head": data["head"], "length": data["length"], "entries": entries}
