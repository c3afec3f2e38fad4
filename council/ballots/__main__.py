"""`council ballots simulate …`, `council ballots export ID` and `python -m council.ballots verify RECORD.zip`.

simulate runs a whole election through the server's service code (council.ballots.simulation:
a community, trustees' key generation, ballots, Benaloh audits, revotes, close, decryption
shares, tally) on a scratch database: a temporary SQLite file, or --database URL (an empty
scratch database, e.g. PostgreSQL); then writes the record and prints a summary.
--in-memory runs the database-free driver (council.ballots.election) instead. export writes
the record of a ballot of the configured database (COUNCIL_DATABASE_URL). verify is
council.ballots.verify's command line. Database code is imported only by simulate and
export, and only after COUNCIL_DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from council.ballots.election import Election, random_selection
from council.ballots.record import write_record

QUESTIONS: dict[str, dict[str, Any]] = {
    "yes_no_abstain": {"text": "是否同意加装电梯？", "options": ["赞成", "反对", "弃权"], "min": 1, "max": 1},
    "approval": {"text": "选出两位楼栋长", "options": ["王", "李", "张", "刘"], "min": 0, "max": 2},
    "budget": {
        "text": "微更新项目（预算 10 万元）",
        "options": ["照明", "座椅", "绿化", "车棚"],
        "min": 0,
        "max": 4,
        "costs": [3, 2, 5, 4],
        "budget": 10,
    },
}


def _methods(args: argparse.Namespace) -> list[str]:
    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    unknown = [m for m in methods if m not in QUESTIONS]
    if unknown or not methods:
        raise SystemExit(f"--method takes {', '.join(QUESTIONS)} (comma separated), not {args.method!r}")
    return methods


def _out(args: argparse.Namespace) -> str:
    if args.out and args.out_option and args.out != args.out_option:
        raise SystemExit("give RECORD.zip once: as --out or as the argument")
    out: str | None = args.out_option or args.out
    if not out:
        raise SystemExit("give the record to write: --out RECORD.zip")
    return out


def simulate_in_memory(args: argparse.Namespace) -> int:
    methods = _methods(args)
    out = _out(args)
    rng = random.Random(args.seed)
    roster: list[dict[str, Any]] = [
        {
            "alias": f"{1 + v // 100}-{1 + v // 10 % 10}-{v:04d}",
            "weight": rng.randint(1, 4) if args.weighted else 1,
        }
        for v in range(args.voters)
    ]
    election = Election(
        questions=[QUESTIONS[kind] for kind in methods],
        roster=roster,
        n=args.trustees,
        t=args.threshold,
        rule={"preset": args.preset, "abstain_option": 2} if methods[0] == "yes_no_abstain" else {},
    )
    turnout = rng.sample(roster, round(len(roster) * args.turnout))
    for row in turnout:
        election.cast(row["alias"], [random_selection(rng, shape) for shape in election.shapes])
    for row in turnout[: args.audits]:
        election.audit(row["alias"], [random_selection(rng, shape) for shape in election.shapes])
    for row in turnout[: args.revotes]:
        election.cast(row["alias"], [random_selection(rng, shape) for shape in election.shapes])
    record = election.tally()
    write_record(record, out)
    print(
        f"{out}: {len(record.board)} entries, counts {record.result['counts']}, head {record.result['head']}"
    )
    return 0


def _describe_outcome(manifest: dict[str, Any], outcome: dict[str, Any]) -> list[str]:
    lines = [f"quorum {'met' if outcome['quorum_met'] else 'NOT met'}"]
    for question, decided in zip(manifest["questions"], outcome["questions"], strict=True):
        options = question["options"]
        if decided["method"] == "majority":
            verdict = "passed" if decided["passed"] else "not passed"
            lines.append(f"{question['text']}: {verdict} ({decided['yes']} yes of {decided['base']})")
        elif decided["method"] == "top":
            elected = ", ".join(options[j] for j in decided["elected"]) or "nobody"
            tied = f"; tied: {', '.join(options[j] for j in decided['tied'])}" if decided["tied"] else ""
            lines.append(f"{question['text']}: elected {elected}{tied}")
        else:
            funded = ", ".join(options[j] for j in decided["funded"]) or "nothing"
            lines.append(
                f"{question['text']}: funded {funded} (spent {decided['spent']} of {decided['budget']})"
            )
    return lines


def _where(url: str) -> str:
    """The database for the summary, without a password."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


async def _start_pool(size: int) -> Any:
    from council.db import PooledSQLiteEngine, engine

    db: Any = engine()
    if isinstance(db, PooledSQLiteEngine):
        db.pool_size = size
    else:
        await db.start_connection_pool(min_size=1, max_size=size)
    return db


async def _stop_pool(db: Any) -> None:
    from council.db import PooledSQLiteEngine

    if isinstance(db, PooledSQLiteEngine):
        await db.close_pool()  # its connections' threads would keep the process alive
    else:
        await db.close_connection_pool()


def simulate(args: argparse.Namespace) -> int:
    if args.in_memory:
        return simulate_in_memory(args)
    if args.weighted:
        raise SystemExit("--weighted needs --in-memory: the service's rosters weigh every entry 1")
    methods = _methods(args)
    out = _out(args)
    scratch = None if args.database else Path(tempfile.mkdtemp(prefix="council-simulate-"))
    url = args.database or f"sqlite:///{scratch}/council.sqlite3"
    # Before anything imports council.piccolo_conf, which makes the engine from these.
    os.environ["COUNCIL_DATABASE_URL"] = url
    os.environ["PICCOLO_CONF"] = "council.piccolo_conf"
    if scratch is not None:
        os.environ["COUNCIL_DATA_DIR"] = str(scratch / "data")
    try:
        return asyncio.run(_simulate(args, methods, out, url))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


async def _simulate(args: argparse.Namespace, methods: list[str], out: str, url: str) -> int:
    from council.ballots.simulation import COMMUNITY_PREFIX, simulate_election
    from council.ballots.tables import BallotSecrecy, WeightBasis
    from council.cli import migrate
    from council.community.tables import Node, NodeKind

    began = time.perf_counter()
    # Refused before migrating: a database with real data is left exactly as it was.
    try:
        others = await Node.select(Node.name).where(
            (Node.kind == NodeKind.community.value) & Node.name.not_like(f"{COMMUNITY_PREFIX}%")
        )
    except Exception:  # noqa: BLE001 - no tables yet: a fresh database
        others = []
    if others:
        print(
            f"{_where(url)} holds community {others[0]['name']!r}: simulate only on a scratch database.",
            file=sys.stderr,
        )
        return 2
    await migrate(quiet=True)
    migrated = time.perf_counter() - began
    db = await _start_pool(max(2, args.concurrency + 1))
    try:
        sim = await simulate_election(
            voters=args.voters,
            trustees=args.trustees,
            threshold=args.threshold,
            methods=methods,
            secrecy=BallotSecrecy.open if args.open else BallotSecrecy.secret,
            weight_basis=WeightBasis(args.weight_basis),
            turnout=args.turnout,
            audits=args.audits,
            revotes=args.revotes,
            preset=args.preset,
            seed=args.seed,
            concurrency=args.concurrency,
        )
    finally:
        await _stop_pool(db)
    write_record(sim.record, out)
    result, manifest = sim.record.result, sim.record.manifest
    match = "equal" if result["counts"] == sim.expected else "DIFFER FROM"
    casting = sim.seconds["casting"]
    rate = (sim.ballots + sim.audits) / casting if casting else 0.0
    total = time.perf_counter() - began
    print(f"{out}: {sim.secrecy} ballot {sim.ballot_id} ({', '.join(methods)}) on {_where(url)}")
    print(
        f"  roster {sim.roster} ({args.weight_basis}), voted {sim.voted} "
        f"(turnout {result['turnout']['weight_cast']}/{result['turnout']['weight_eligible']}), "
        f"{sim.ballots} ballots with {sim.revotes} revote(s), {sim.audits} audited; "
        f"{len(sim.record.board)} board entries"
    )
    if sim.secrecy == "secret":
        shares = ", ".join(str(j) for j in sim.shares_from)
        print(f"  trustees {manifest['n']}, threshold {manifest['t']}, shares from {shares}")
    print(f"  counts {result['counts']} ({match} the simulated choices)")
    for line in _describe_outcome(manifest, result["outcome"]):
        print(f"  {line}")
    print(f"  head {result['head']}")
    laps = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in sim.seconds.items())
    print(f"  time: migrate {migrated:.2f} s, {laps}; {rate:.0f} ballots/s; total {total:.1f} s")
    return 0 if result["counts"] == sim.expected else 1


def export(args: argparse.Namespace) -> int:
    os.environ.setdefault("PICCOLO_CONF", "council.piccolo_conf")
    from council.ballots.export import record_of
    from council.errors import DomainError
    from council.settings import database_url_from_env

    out = args.out or f"ballot-{args.ballot_id}-record.zip"
    try:
        record = asyncio.run(record_of(args.ballot_id))
    except DomainError as error:
        print(error.detail(), file=sys.stderr)
        return 2
    write_record(record, out)
    result = record.result
    print(
        f"{out}: ballot {args.ballot_id} {record.manifest['title']!r} from {_where(database_url_from_env())}; "
        f"{len(record.board)} board entries, counts {result['counts']}, head {result['head']}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="council ballots")
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser(
        "simulate",
        help="run a whole election through the service code on a scratch database, write its record",
        description="Runs a whole election through the server's service code on a scratch database "
        "(a temporary SQLite file unless --database) and writes its record.",
    )
    sim.add_argument("out", nargs="?", help="RECORD.zip to write (or --out)")
    sim.add_argument("--out", dest="out_option", metavar="RECORD.zip", help="the record to write")
    sim.add_argument("--voters", type=int, default=12, help="roster entries (households or residents)")
    sim.add_argument("--trustees", type=int, default=3, help="n, supervisors holding key shares")
    sim.add_argument("--threshold", type=int, default=None, help="t (default ⌊n/2⌋+1)")
    sim.add_argument(
        "--method",
        "--questions",
        dest="method",
        default="yes_no_abstain,approval",
        help="questions, comma separated: " + ", ".join(QUESTIONS),
    )
    sim.add_argument("--open", action="store_true", help="an open (roll-call) ballot instead of a secret one")
    sim.add_argument("--weight-basis", choices=("household", "resident"), default="household")
    sim.add_argument("--preset", default="resident_meeting")
    sim.add_argument("--turnout", type=float, default=0.8)
    sim.add_argument("--audits", type=int, default=1)
    sim.add_argument("--revotes", type=int, default=1)
    sim.add_argument("--seed", type=int, default=None, help="fixes the roster, who votes and every choice")
    sim.add_argument("--concurrency", type=int, default=4, help="voters casting at once (default 4)")
    sim.add_argument(
        "--database",
        metavar="URL",
        help="an empty scratch database to use (default: a temporary SQLite file)",
    )
    sim.add_argument(
        "--in-memory", action="store_true", help="the database-free driver (council.ballots.election)"
    )
    sim.add_argument("--weighted", action="store_true", help="roster weights 1..4 (with --in-memory)")
    exp = commands.add_parser(
        "export", help="write a tallied ballot's record (manifest, board, result) from the database"
    )
    exp.add_argument("ballot_id", type=int, metavar="ID")
    exp.add_argument("--out", help="the zip to write (default ballot-ID-record.zip)")
    commands.add_parser(
        "verify", help="verify a record (see python -m council.ballots.verify --help)", add_help=False
    )
    args, rest = parser.parse_known_args(argv)
    if args.command == "verify":
        from council.ballots.verify import main as verify

        return verify(rest)
    if rest:
        parser.error("unrecognised arguments: " + " ".join(rest))
    if args.command == "export":
        return export(args)
    return simulate(args)


if __name__ == "__main__":
    sys.exit(main())
