"""`python -m tests.bench`: see the package docstring."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from tests.bench import argon, cpu, load, weblogin
from tests.bench.server import ROOT, Scratch, Server, postgres_admin_url, postgres_problem
from tests.bench.stats import ms, table

LABEL = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
PARTS = ("login", "community", "proposals")
# The proposals list: the word searched over HTTP (2 characters, as residents type it), a
# 4-character one, and a 2- and a 3-character word that no fixture holds (pg_trgm needs a
# trigram from the pattern, so 3 characters or more, to narrow the search with its index).
WORD = "停车"
SEARCH_WORDS = (WORD, "消防通道", "泳池", "游泳池")
# asyncpg's pool starts min_size=10 connections; council/app.py asks for max_size only.
POOL_BUG = "min_size is greater than max_size"


@dataclass
class Run:
    database: str
    endpoint: str
    figures: load.LoadFigures | None = None
    failure: str = ""
    cpu: cpu.Usage | None = None


@dataclass
class ProposalFigures:
    """The proposals part for one database: the fixtures and the in-process search times."""

    seeded: dict[str, Any] = field(default_factory=dict)
    found: dict[str, dict[str, Any]] = field(default_factory=dict)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--workers", type=int, default=2, help="council serve --workers (default 2)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per endpoint (default 15)")
    parser.add_argument("--logins", type=int, default=30, help="sequential POST /login timed (default 30)")
    parser.add_argument(
        "--hash-iterations", type=int, default=30, help="in-process argon2 rounds (default 30)"
    )
    parser.add_argument(
        "--tool",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk if installed (auto), or the Python fallback",
    )
    parser.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk threads (default 1: leaves the cores to the server)"
    )
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help="comma-separated parts to run: login (argon2, POST /login), community (roster page and "
        "residents API), proposals (10,000 proposals: list, Chinese search, /matters) (default: all)",
    )
    parser.add_argument(
        "--proposals",
        type=int,
        default=10_000,
        help="proposals inserted for the proposals part (default 10000)",
    )
    parser.add_argument(
        "--find-repeat", type=int, default=50, help="in-process queries.find() rounds per search (default 50)"
    )
    args = parser.parse_args()
    args.parts = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = args.parts - set(PARTS)
    if unknown or not args.parts:
        parser.error(f"--only takes {', '.join(PARTS)}; got {args.only!r}")
    return args


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    commit = done.stdout.strip() or "unknown"
    return commit + ("+changes" if dirty.stdout.strip() else "")


def community_path(base: str, cookies: dict[str, str]) -> str:
    """The demo community's page: /roster/ redirects there when there is one community."""
    response = httpx.get(f"{base}/roster/", cookies=cookies, follow_redirects=False, timeout=30)
    location = str(response.headers.get("location", ""))
    if response.status_code not in (302, 303) or "/roster/nodes/" not in location:
        raise RuntimeError(f"GET /roster/ answered {response.status_code} {location!r}; expected a redirect")
    return location


def check(base: str, path: str, headers: dict[str, str], kind: str) -> str:
    """One request before the load, to be sure the figures are of real answers."""
    response = httpx.get(f"{base}{path}", headers=headers, follow_redirects=False, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    size = f"{len(response.content) / 1024:.1f} KiB"
    if kind == "page":
        rows = response.text.count("<tr")
        if rows < 2:
            raise RuntimeError(f"GET {path}: no resident table in the page")
        return f"200, {size}, {rows - 1} table rows"
    if kind == "matters":
        cards = response.text.count('<li class="card">')
        if cards < 1:
            raise RuntimeError(f"GET {path}: no proposal cards in the page")
        return f"200, {size}, {cards} proposal cards"
    data = response.json()
    if not data["items"]:
        raise RuntimeError(f"GET {path}: no items (total {data['total']})")
    what = "proposals" if kind == "proposals" else "residents"
    return f"200, {size}, {len(data['items'])} of {data['total']} {what}"


def describe_errors(figures: load.LoadFigures) -> str:
    if not figures.errors:
        return "0"
    parts = [f"{status}×{n}" for status, n in sorted(figures.statuses.items())]
    if figures.socket_errors:
        parts.append(f"socket×{figures.socket_errors}")
    return f"{figures.errors} ({', '.join(parts)})"


def run_json(scratch: Scratch, argv: list[str]) -> dict[str, Any]:
    """A bench helper run with the scratch database's environment; its last line is JSON."""
    out = scratch.run([sys.executable, "-m", *argv])
    return dict(json.loads(out.strip().splitlines()[-1]))


def plan_summary(plan: list[str]) -> str:
    """A plan on one line: SQLite's whole (it is short), PostgreSQL's scans."""
    if not any("cost=" in line for line in plan):
        return "; ".join(line.strip() for line in plan)
    return "; ".join(line.strip().lstrip("-> ").split("  (")[0] for line in plan if "Scan" in line)


def seed_proposals(kind: str, scratch: Scratch, args: argparse.Namespace, figures: ProposalFigures) -> None:
    seeded = run_json(
        scratch,
        ["tests.bench.proposals", "seed", str(args.proposals), *[f"--word={w}" for w in SEARCH_WORDS]],
    )
    figures.seeded = seeded
    matches: dict[str, int] = seeded["matches"]
    vacuum = (
        f", then VACUUM ANALYZE proposal in {float(seeded['vacuum_seconds']):.1f} s (what autovacuum "
        "does after a bulk insert)"
        if kind == "postgres"
        else ""
    )
    print(
        f"  proposals: {seeded['inserted']} inserted in batches in {float(seeded['seconds']):.1f} s{vacuum}; "
        f"{seeded['total']} proposals in all ({seeded['before']} from the demo), {seeded['public']} public; "
        + ", ".join(f"{w!r} in {n}" for w, n in matches.items()),
        flush=True,
    )


def time_search(
    kind: str, scratch: Scratch, args: argparse.Namespace, figures: ProposalFigures, notes: list[str]
) -> None:
    """queries.find() in a process of its own (the database is chosen at import), and the
    plans of the SQL it sends: database cost without HTTP, templates or JSON."""
    label = LABEL[kind]
    timed = run_json(
        scratch, ["tests.bench.proposals", "time", *SEARCH_WORDS, f"--repeat={args.find_repeat}"]
    )
    found: dict[str, dict[str, Any]] = timed["find"]
    plans: dict[str, list[dict[str, Any]]] = timed["plans"]
    figures.found = found
    print(
        f"  queries.find() in-process, anonymous, limit 20, {args.find_repeat} rounds each (select + count):"
    )
    for word, f in found.items():
        shown = f"q={word!r}" if word else "no q (the list)"
        print(
            f"    {shown}: p50 {ms(f['p50'])}, p95 {ms(f['p95'])}; {f['rows']} rows of {f['total']}",
            flush=True,
        )
    first = (
        "EXPLAIN QUERY PLAN" if kind == "sqlite" else "EXPLAIN ANALYZE, first run (planned for its pattern)"
    )
    for plan in plans[WORD]:
        print(f"  {first}: {plan['sql']}")
        for line in plan["plan"]:
            print(f"      {line}")
        if "cached" in plan:
            print(
                "    the same once prepared and run 6 times, as the server's asyncpg statement cache runs it:"
            )
            for line in plan["cached"]:
                print(f"      {line}")
    print("  the scans by query (select | count):")
    for word, queries in plans.items():
        shown = f"q={word!r}" if word else "no q"
        print(f"    {shown}: " + " | ".join(plan_summary(q["plan"]) for q in queries))
        if kind == "postgres":
            print(f"    {shown}, cached: " + " | ".join(plan_summary(q["cached"]) for q in queries))
    if kind == "sqlite":
        select = plans[""][0]["plan"] if plans.get("") else []
        if any("TEMP B-TREE FOR ORDER BY" in line for line in select):
            what = (
                "the list (with or without q) reads every public row, one index range per status of "
                "the IN list, and sorts them all for the newest 20 (USE TEMP B-TREE FOR ORDER BY)"
            )
            print(f"  {label}: {what}", flush=True)
            notes.append(f"{label}: {what}")
        return
    for word in SEARCH_WORDS:
        for which, key in (("first run", "plan"), ("cached, as served", "cached")):
            text = "\n".join(line for q in plans[word] for line in q[key])
            entries = re.findall(
                r"Bitmap Index Scan on proposal_search_trgm .*actual time=\S+ rows=(\d+)", text
            )
            if entries and len(word) < 3:
                what = (
                    f"goes through the trigram index proposal_search_trgm, which cannot narrow it (pg_trgm "
                    f"takes no trigram from a pattern under 3 characters): {max(map(int, entries))} index "
                    "hits, every row rechecked"
                )
            elif "proposal_search_trgm" in text:
                what = "uses the trigram index proposal_search_trgm"
            elif "Seq Scan on proposal" in text:
                what = "reads the whole table (Seq Scan on proposal)"
                if len(word) < 3:
                    what += ": pg_trgm takes no trigram from a pattern under 3 characters"
            else:
                what = "does not use the trigram index"
            print(f"  {label}, {which}: q={word!r} ({len(word)} characters) {what}", flush=True)
            if word == WORD and len(word) < 3:
                notes.append(f"{label}, {which}: the search for {word!r} ({len(word)} characters) {what}")


def bench_database(
    kind: str,
    args: argparse.Namespace,
    runs: list[Run],
    logins: dict[str, weblogin.LoginFigures],
    proposals: dict[str, ProposalFigures],
    notes: list[str],
) -> None:
    label = LABEL[kind]
    print(f"\n== {label} ==", flush=True)
    scratch = Scratch(kind)
    server: Server | None = None
    try:
        started = time.monotonic()
        scratch.create()
        token = scratch.token("staff") if "community" in args.parts else ""
        where = scratch.url if kind == "postgres" else "a SQLite file in a temporary directory (WAL)"
        print(
            f"  scratch database: {where}; migrated, demo loaded"
            + (", API token for staff" if token else "")
            + f" ({time.monotonic() - started:.1f} s)",
            flush=True,
        )
        if "proposals" in args.parts:
            figures_p = proposals[kind] = ProposalFigures()
            seed_proposals(kind, scratch, args, figures_p)
            time_search(kind, scratch, args, figures_p, notes)
        server = Server(scratch, args.workers)
        started = time.monotonic()
        try:
            server.start()
        except RuntimeError:
            if POOL_BUG not in server.log_text() or os.environ.get("COUNCIL_DB_POOL_SIZE"):
                raise
            server.stop()
            why = (
                "council serve fails to start with the default COUNCIL_DB_POOL_SIZE=8: council/app.py "
                "start_pool() calls start_connection_pool(max_size=8), and asyncpg's min_size is 10 "
                f"({POOL_BUG!r}); measured with COUNCIL_DB_POOL_SIZE=10"
            )
            print(f"  server: {why}", flush=True)
            notes.append(f"{label}: {why}")
            scratch.env["COUNCIL_DB_POOL_SIZE"] = "10"
            server = Server(scratch, args.workers)
            started = time.monotonic()
            server.start()
        store = "Redis" if os.environ.get("COUNCIL_REDIS_URL") else "files in COUNCIL_DATA_DIR"
        print(
            f"  server: council serve --workers {args.workers} on {server.base} (pid {server.process.pid if server.process else '?'}"
            f"; sessions in {store}; up in {time.monotonic() - started:.1f} s)",
            flush=True,
        )

        if "login" in args.parts:
            figures = weblogin.measure(server.base, "staff", args.logins)
            logins[kind] = figures
            print(
                f"  POST /login over HTTP ({figures.count} sequential, staff): p50 {ms(figures.p50)}, "
                f"p95 {ms(figures.p95)}, errors {figures.errors}",
                flush=True,
            )
            for example in figures.error_examples:
                print(f"    error: {example}")

        targets: list[tuple[str, str, str, dict[str, str]]] = []
        if "community" in args.parts:
            session, _ = weblogin.login(server.base, "staff")
            page = community_path(server.base, session.cookies)
            targets += [
                ("page", f"GET {page} (HTML, session cookie)", page, {"Cookie": session.header}),
                (
                    "api",
                    f"GET /api/v1/residents?scope={page.rsplit('/', 1)[-1]}&limit=50 (bearer token)",
                    f"/api/v1/residents?scope={page.rsplit('/', 1)[-1]}&limit=50",
                    {"Authorization": f"Bearer {token}"},
                ),
            ]
        if "proposals" in args.parts:
            q = quote(WORD)
            targets += [
                ("proposals", "GET /api/v1/proposals?limit=20 (anonymous)", "/api/v1/proposals?limit=20", {}),
                (
                    "proposals",
                    f"GET /api/v1/proposals?q={WORD}&limit=20 (anonymous)",
                    f"/api/v1/proposals?q={q}&limit=20",
                    {},
                ),
                ("matters", f"GET /matters?q={WORD} (HTML, anonymous)", f"/matters?q={q}", {}),
            ]
        for kind_of, name, path, headers in targets:
            run = Run(label, name)
            runs.append(run)
            try:
                print(f"  {name}: check {check(server.base, path, headers, kind_of)}", flush=True)
                pgid = server.process.pid if server.process else 0
                before = cpu.snapshot(pgid)
                figures_ = load.run(
                    f"{server.base}{path}",
                    headers,
                    args.connections,
                    args.duration,
                    args.tool,
                    args.wrk_threads,
                )
            except Exception as exc:  # noqa: BLE001 - report it and go on with the next
                run.failure = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else repr(exc)
                print(f"    failed: {exc}", flush=True)
                continue
            run.figures = figures_
            run.cpu = cpu.usage(before, cpu.snapshot(pgid))
            # wrk stops with requests still queued in the server: let them finish, so the next
            # figures (and the stop) do not overlap them.
            time.sleep(2)
            print(
                f"    {figures_.tool}: {figures_.requests} requests in {figures_.duration:.1f} s = "
                f"{figures_.rps:.1f} req/s; p50 {ms(figures_.p50)}, p95 {ms(figures_.p95)}, "
                f"p99 {ms(figures_.p99)}, max {ms(figures_.max)}; errors {describe_errors(figures_)}",
                flush=True,
            )
            if run.cpu is not None:
                print(
                    f"    CPU in use, in cores: server {run.cpu.server_cores:.2f}, PostgreSQL "
                    f"{run.cpu.database_cores:.2f}, bench and load generator "
                    f"{run.cpu.bench_cores:.2f}, other processes {run.cpu.other_cores:.2f} "
                    f"(of {os.cpu_count()})",
                    flush=True,
                )
    except Exception as exc:  # noqa: BLE001 - one database failing must not hide the other
        print(f"  FAILED: {exc}")
        if not isinstance(exc, RuntimeError):  # the benchmark's own errors say enough
            traceback.print_exc(limit=3)
        notes.append(
            f"{label}: failed: {str(exc).strip().splitlines()[0][:200] if str(exc).strip() else exc!r}"
        )
    finally:
        if server is not None:
            server.stop()
            for during, when in (("run", "while serving"), ("shutdown", "after the stop signal")):
                problems = server.log_problems(during)
                if not problems:
                    continue
                print(f"  server log, {when}:")
                for line in problems[:8]:
                    print(f"    {line}")
                notes.append(f"{label}, server log {when}: " + "; ".join(problems[:3]))
            if not server.log_problems("all"):
                print("  server log: no errors")
            print("  server stopped", flush=True)
        scratch.close()


def main() -> int:
    args = parse_args()
    began = time.monotonic()
    tool = "wrk" if args.tool == "wrk" or (args.tool == "auto" and load.wrk_path()) else "python"
    tool_text = (
        f"{load.wrk_version()} -t{args.wrk_threads}"
        if tool == "wrk"
        else "Python asyncio+httpx fallback" + ("" if load.wrk_path() else " (wrk not installed)")
    )
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    commit = git_commit()
    print(f"council benchmark: {when}, commit {commit}, {machine}")
    load_before = os.getloadavg()[0]
    print(
        f"load average before: {load_before:.2f}"
        + (
            "  (the machine is busy: the figures below are lower than on an idle machine)"
            if load_before > 0.7
            else ""
        )
    )
    print(
        f"load generator: {tool_text}, {args.connections} connections, {args.duration} s per endpoint, "
        "on loopback, same machine as the server"
    )

    figures: argon.ArgonFigures | None = None
    if "login" in args.parts:
        print("\n== Login cost ==")
        figures = argon.measure(args.hash_iterations)
        print(
            f"  argon2id parameters: {figures.params} (COUNCIL_ARGON2_TIME_COST / _MEMORY_KIB / _PARALLELISM)"
        )
        print(
            f"  memory per hash: {figures.memory_kib} KiB = {figures.memory_kib / 1024:.1f} MiB "
            "(each login in progress holds this much)"
        )
        print(
            f"  in-process, {figures.iterations} rounds: hash p50 {ms(figures.hash_p50)} p95 {ms(figures.hash_p95)}; "
            f"verify p50 {ms(figures.verify_p50)} p95 {ms(figures.verify_p95)}; "
            f"hash+verify p50 {ms(figures.both_p50)} p95 {ms(figures.both_p95)}",
            flush=True,
        )

    runs: list[Run] = []
    logins: dict[str, weblogin.LoginFigures] = {}
    proposals: dict[str, ProposalFigures] = {}
    notes: list[str] = []
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        if kind not in LABEL:
            print(f"\nunknown database {kind!r}: use sqlite or postgres")
            continue
        if kind == "postgres":
            problem = postgres_problem()
            if problem:
                print(f"\n== PostgreSQL ==\n  skipped: {problem}")
                notes.append(f"PostgreSQL skipped: {problem}")
                continue
        bench_database(kind, args, runs, logins, proposals, notes)

    elapsed = time.monotonic() - began
    load_after = os.getloadavg()[0]
    print("\n== Summary (markdown) ==\n")
    print(
        f"**council benchmark** — {when}, commit `{commit}`, {machine}; "
        f"1-min load average {load_before:.2f} before the run.  "
    )
    print(
        f"Server: `council serve --workers {args.workers}` (granian); load: {tool_text}, "
        f"{args.connections} connections × {args.duration} s per row, loopback, same machine.\n"
    )
    if figures is not None:
        print(f"Login cost — argon2id {figures.params}; {figures.memory_kib / 1024:.1f} MiB per hash:\n")
        rows: list[list[object]] = [
            ["argon2 hash (in-process)", figures.iterations, ms(figures.hash_p50), ms(figures.hash_p95)],
            [
                "argon2 verify (in-process)",
                figures.iterations,
                ms(figures.verify_p50),
                ms(figures.verify_p95),
            ],
            [
                "argon2 hash+verify (in-process)",
                figures.iterations,
                ms(figures.both_p50),
                ms(figures.both_p95),
            ],
        ]
        for kind, login_figures in logins.items():
            errors = f", {login_figures.errors} errors" if login_figures.errors else ""
            rows.append(
                [
                    f"POST /login over HTTP, {LABEL[kind]}{errors}",
                    login_figures.count,
                    ms(login_figures.p50),
                    ms(login_figures.p95),
                ]
            )
        print(table(["measure", "n", "p50", "p95"], rows))
    if proposals:
        print(
            ("\n" if figures is not None else "")
            + "Proposals list — "
            + "; ".join(
                f"{LABEL[kind]}: {p.seeded.get('total', '?')} proposals ({p.seeded.get('public', '?')} public)"
                for kind, p in proposals.items()
            )
            + ". In-process `queries.find()` (select + count, anonymous, limit 20), no HTTP:\n"
        )
        find_rows: list[list[object]] = []
        for kind, p in proposals.items():
            for word, timing in p.found.items():
                find_rows.append(
                    [
                        LABEL[kind],
                        f"q={word}" if word else "no q (the list)",
                        timing["n"],
                        ms(timing["p50"]),
                        ms(timing["p95"]),
                        timing["total"],
                    ]
                )
        print(table(["database", "search", "n", "p50", "p95", "matches"], find_rows))
    print("\nLoad:\n")
    load_rows: list[list[object]] = []
    for run in runs:
        if run.figures is None:
            load_rows.append([run.database, run.endpoint, "failed", "", "", "", run.failure, ""])
            continue
        f = run.figures
        used = (
            f"{run.cpu.server_cores:.1f} / {run.cpu.database_cores:.1f} / {run.cpu.other_cores:.1f}"
            if run.cpu
            else "—"
        )
        load_rows.append(
            [
                run.database,
                run.endpoint,
                f"{f.rps:.1f}",
                ms(f.p50),
                ms(f.p95),
                ms(f.p99),
                describe_errors(f),
                used,
            ]
        )
    headers = ["database", "request", "req/s", "p50", "p95", "p99", "errors", "cores: server / PG / others"]
    print(table(headers, load_rows))
    print(
        f"\n(cores: CPU used during the row by the server's processes, by PostgreSQL, and by all other "
        f"processes outside this benchmark, of {os.cpu_count()}; more than ~0.2 for others means a "
        "shared, noisy machine and lower figures)"
    )
    if notes:
        print()
        for note in notes:
            print(f"- {note}")
    print(
        f"\n(bench took {elapsed:.0f} s; load average {load_before:.2f} before, {load_after:.2f} at the end, "
        f"counting this run; PostgreSQL admin URL {postgres_admin_url()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
