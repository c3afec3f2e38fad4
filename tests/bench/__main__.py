"""`python -m tests.bench`: see the package docstring."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass

import httpx

from tests.bench import argon, cpu, load, weblogin
from tests.bench.server import ROOT, Scratch, Server, postgres_admin_url, postgres_problem
from tests.bench.stats import ms, table

LABEL = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass
class Run:
    database: str
    endpoint: str
    figures: load.LoadFigures | None = None
    failure: str = ""
    cpu: cpu.Usage | None = None


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
    return parser.parse_args()


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
    if kind == "page":
        rows = response.text.count("<tr")
        if rows < 2:
            raise RuntimeError(f"GET {path}: no resident table in the page")
        return f"200, {len(response.content) / 1024:.1f} KiB, {rows - 1} table rows"
    data = response.json()
    return f"200, {len(response.content) / 1024:.1f} KiB, {len(data['items'])} of {data['total']} residents"


def describe_errors(figures: load.LoadFigures) -> str:
    if not figures.errors:
        return "0"
    parts = [f"{status}×{n}" for status, n in sorted(figures.statuses.items())]
    if figures.socket_errors:
        parts.append(f"socket×{figures.socket_errors}")
    return f"{figures.errors} ({', '.join(parts)})"


def bench_database(
    kind: str,
    args: argparse.Namespace,
    runs: list[Run],
    logins: dict[str, weblogin.LoginFigures],
    notes: list[str],
) -> None:
    label = LABEL[kind]
    print(f"\n== {label} ==", flush=True)
    scratch = Scratch(kind)
    server: Server | None = None
    try:
        started = time.monotonic()
        scratch.create()
        token = scratch.token("staff")
        where = scratch.url if kind == "postgres" else "a SQLite file in a temporary directory (WAL)"
        print(
            f"  scratch database: {where}; migrated, demo loaded, API token for staff "
            f"({time.monotonic() - started:.1f} s)",
            flush=True,
        )
        server = Server(scratch, args.workers)
        started = time.monotonic()
        server.start()
        store = "Redis" if os.environ.get("COUNCIL_REDIS_URL") else "files in COUNCIL_DATA_DIR"
        print(
            f"  server: council serve --workers {args.workers} on {server.base} (pid {server.process.pid if server.process else '?'}"
            f"; sessions in {store}; up in {time.monotonic() - started:.1f} s)",
            flush=True,
        )

        figures = weblogin.measure(server.base, "staff", args.logins)
        logins[kind] = figures
        print(
            f"  POST /login over HTTP ({figures.count} sequential, staff): p50 {ms(figures.p50)}, "
            f"p95 {ms(figures.p95)}, errors {figures.errors}",
            flush=True,
        )
        for example in figures.error_examples:
            print(f"    error: {example}")

        session, _ = weblogin.login(server.base, "staff")
        page = community_path(server.base, session.cookies)
        targets = [
            ("page", f"GET {page} (HTML, session cookie)", page, {"Cookie": session.header}),
            (
                "api",
                f"GET /api/v1/residents?scope={page.rsplit('/', 1)[-1]}&limit=50 (bearer token)",
                f"/api/v1/residents?scope={page.rsplit('/', 1)[-1]}&limit=50",
                {"Authorization": f"Bearer {token}"},
            ),
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

    print("\n== Login cost ==")
    figures = argon.measure(args.hash_iterations)
    print(f"  argon2id parameters: {figures.params} (COUNCIL_ARGON2_TIME_COST / _MEMORY_KIB / _PARALLELISM)")
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
        bench_database(kind, args, runs, logins, notes)

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
    print(f"Login cost — argon2id {figures.params}; {figures.memory_kib / 1024:.1f} MiB per hash:\n")
    rows: list[list[object]] = [
        ["argon2 hash (in-process)", figures.iterations, ms(figures.hash_p50), ms(figures.hash_p95)],
        ["argon2 verify (in-process)", figures.iterations, ms(figures.verify_p50), ms(figures.verify_p95)],
        ["argon2 hash+verify (in-process)", figures.iterations, ms(figures.both_p50), ms(figures.both_p95)],
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
