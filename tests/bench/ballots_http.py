"""Casting secret ballots over HTTP: `python -m tests.bench.ballots_http`.

For each database: a scratch database (migrated, demo loaded), an open yes/no/abstain
secret ballot with N voters holding API tokens (tests/ballots/support_load.py), their
ballots encrypted beforehand in 2 processes, then `council serve --workers 2` and a
separate light load generator (raw HTTP/1.1 on asyncio, keep-alive, C requests in flight)
POSTing every ballot once. The server checks every proof of every ballot. Printed: ballots
accepted per second, latency, errors, where the CPU went (server, PostgreSQL, the load
generator), then each part of one cast timed in-process on S more voters (the proofs, the
queries, the transaction), and last the tally: counts checked against the plaintext
choices and the record verified. Figures, never pass/fail.

  python -m tests.bench.ballots_http [--databases postgres,sqlite] [--voters 3000]
      [--concurrency 32] [--workers 2] [--sample 200]
  python -m tests.bench.ballots_http fire --url URL --in BODIES --concurrency C   (the load generator)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.bench import cpu
from tests.bench.server import ROOT, Scratch, Server, postgres_problem
from tests.bench.stats import ms, percentile, table

LABEL = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


# The load generator ---------------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep-alive) of one HTTP/1.1 response."""
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed")
    status = int(line.split(b" ", 2)[1])
    length = None
    chunked = False
    keep = True
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep = False
    if chunked:
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
    else:
        body = await reader.readexactly(length or 0)
    return status, body, keep


async def fire(url: str, source: Path, concurrency: int) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    items = json.loads(source.read_text())
    requests = []
    for item in items:
        body = json.dumps(item["body"], separators=(",", ":")).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {item['token']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        requests.append(head + body)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    examples: dict[int, str] = {}
    socket_errors = [0]
    order = iter(range(len(requests)))

    async def connection() -> None:
        reader = writer = None
        for k in order:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                start = time.perf_counter()
                writer.write(requests[k])
                status, body, keep = await _read_response(reader)
                latencies.append(time.perf_counter() - start)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
                socket_errors[0] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            statuses[status] += 1
            if status != 201 and status not in examples:
                examples[status] = body[:300].decode(errors="replace")
            if not keep:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = used.ru_utime + used.ru_stime
    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "sent": len(requests),
        "accepted": statuses.get(201, 0),
        "duration": elapsed,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies, default=0.0),
        "statuses": {str(k): v for k, v in statuses.items()},
        "examples": {str(k): v for k, v in examples.items()},
        "socket_errors": socket_errors[0],
        "cpu_seconds": used.ru_utime + used.ru_stime - cpu_before,
    }


# The benchmark --------------------------------------------------------------------------------


def step(scratch: Scratch, argv: list[str], timeout: float = 1800) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        env=scratch.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}"
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def bench_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    label = LABEL[kind]
    print(f"\n== {label} ==", flush=True)
    scratch = Scratch(kind, pg_name="council_bench_ballots")
    server: Server | None = None
    out: dict[str, Any] = {"database": label}
    try:
        started = time.monotonic()
        scratch.create()
        print(f"  scratch database migrated, demo loaded ({time.monotonic() - started:.1f} s)", flush=True)
        prepared_path = scratch.dir / "prepared.json"
        bodies_path = scratch.dir / "bodies.json"
        prepared = step(
            scratch,
            [
                "tests.bench.ballots_prepare",
                "prepare",
                f"--voters={args.voters}",
                f"--sample={args.sample}",
                f"--out={prepared_path}",
            ],
        )
        t = prepared["timings"]
        print(
            f"  ballot {prepared['ballot_id']} open with {args.voters} + {args.sample} voters in "
            f"{prepared['seconds']:.1f} s (people as fixtures {t['people']:.1f} s, one token each through "
            f"create_token {t['tokens']:.1f} s, create + key ceremony + open {t['ballot']:.1f} s)",
            flush=True,
        )
        encrypted = step(
            scratch,
            ["tests.bench.ballots_prepare", "encrypt", f"--in={prepared_path}", f"--out={bodies_path}"],
        )
        print(
            f"  {encrypted['ballots']} ballots encrypted beforehand in {encrypted['seconds']:.1f} s "
            f"({encrypted['jobs']} processes; {encrypted['seconds'] / encrypted['ballots'] * 1000 * encrypted['jobs']:.2f} "
            "ms of CPU each)",
            flush=True,
        )
        server = Server(scratch, args.workers)
        server.start()
        assert server.process is not None
        print(f"  server: council serve --workers {args.workers} on {server.base}", flush=True)
        url = f"{server.base}/api/v1/ballots/{prepared['ballot_id']}/ballots"
        before = cpu.snapshot(server.process.pid)
        fired = step(
            scratch,
            [
                "tests.bench.ballots_http",
                "fire",
                f"--url={url}",
                f"--in={bodies_path}",
                f"--concurrency={args.concurrency}",
            ],
        )
        after = cpu.snapshot(server.process.pid)
        server.stop()
        problems = server.log_problems("run")
        server = None
        usage = cpu.usage(before, after)
        out["fired"] = fired
        rate = fired["accepted"] / fired["duration"] if fired["duration"] else 0.0
        out["rate"] = rate
        errors = fired["sent"] - fired["accepted"]
        print(
            f"  {fired['accepted']} of {fired['sent']} ballots accepted in {fired['duration']:.1f} s: "
            f"{rate:.0f}/s; latency p50 {ms(fired['p50'])}, p95 {ms(fired['p95'])}, p99 {ms(fired['p99'])}; "
            f"errors {errors} {fired['statuses'] if errors else ''}",
            flush=True,
        )
        for status, text in fired["examples"].items():
            print(f"    {status}: {text}")
        for problem in problems[:5]:
            print(f"    server log: {problem}")
        if usage is not None and fired["accepted"]:
            n = fired["accepted"]
            whole = usage.seconds
            per = {
                "server": usage.server_cores * whole / n,
                "database": usage.database_cores * whole / n,
                "loadgen": fired["cpu_seconds"] / n,
                "other": usage.other_cores * whole / n,
            }
            out["cpu_per_ballot"] = per
            print(
                f"  CPU per accepted ballot: server {ms(per['server'])}, PostgreSQL {ms(per['database'])}, "
                f"load generator {ms(per['loadgen'])}, other processes {ms(per['other'])} "
                f"(during the burst: server {usage.server_cores * whole / fired['duration']:.2f} cores, "
                f"PostgreSQL {usage.database_cores * whole / fired['duration']:.2f}, "
                f"load generator {fired['cpu_seconds'] / fired['duration']:.2f}, of {os.cpu_count()})",
                flush=True,
            )
        if args.sample:
            measured = step(scratch, ["tests.bench.ballots_prepare", "costs", f"--in={prepared_path}"])
            out["costs"] = measured
            rows = [
                [name, v["n"], fine(v["p50"]), fine(v["p95"]), fine(v["mean"])]
                for name, v in measured["cast"].items()
            ]
            print(
                f"  one cast in-process ({args.sample} more voters, one after another, board of "
                f"{fired['accepted']}+; no HTTP), by part:"
            )
            print(indent(table(["part", "n", "p50", "p95", "mean"], rows)))
            hop = measured["to_thread"]
            print(f"  asyncio.to_thread hop (no work): p50 {fine(hop['p50'])}")
            rows = [[name, fine(v["p50"]), fine(v["p95"])] for name, v in measured["crypto"].items()]
            print("  the pure parts of one yes/no/abstain ballot, in-process:")
            print(indent(table(["part", "p50", "p95"], rows)), flush=True)
        if not args.no_tally:
            tallied = step(scratch, ["tests.bench.ballots_prepare", "tally", f"--in={prepared_path}"])
            out["tally"] = tallied
            print(
                f"  tally: counts {tallied['counts']} "
                + ("= the plaintext choices" if tallied["counts_ok"] else f"≠ expected {tallied['expected']}")
                + f", turnout {tallied['turnout']}, board {tallied['board']} entries; close + 2 shares "
                f"{tallied['tally_seconds']:.1f} s; record "
                + ("verifies" if tallied["verified"] else f"FAILS: {tallied['verify_problem']}")
                + f" ({tallied['verify_seconds']:.1f} s, {tallied['verify_workers']} processes)",
                flush=True,
            )
    except Exception as error:  # noqa: BLE001 - report and go on with the next database
        out["failure"] = str(error)[:2000]
        print(f"  FAILED: {out['failure']}", flush=True)
    finally:
        if server is not None:
            server.stop()
        scratch.close()
    return out


def fine(seconds: float) -> str:
    """ms, or µs under a millisecond."""
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else ms(seconds)


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "fire":
        parser = argparse.ArgumentParser(prog="python -m tests.bench.ballots_http fire")
        parser.add_argument("command")
        parser.add_argument("--url", required=True)
        parser.add_argument("--in", dest="source", type=Path, required=True)
        parser.add_argument("--concurrency", type=int, default=32)
        fargs = parser.parse_args()
        print(json.dumps(asyncio.run(fire(fargs.url, fargs.source, fargs.concurrency))))
        return 0
    parser = argparse.ArgumentParser(prog="python -m tests.bench.ballots_http", description=__doc__)
    parser.add_argument("--databases", default="postgres,sqlite", help="comma-separated: postgres,sqlite")
    parser.add_argument("--voters", type=int, default=3000, help="ballots POSTed over HTTP (default 3000)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="council serve --workers (default 2)")
    parser.add_argument("--sample", type=int, default=200, help="more voters timed in-process (default 200)")
    parser.add_argument("--no-tally", action="store_true", help="skip the close, tally and verification")
    args = parser.parse_args()
    print(
        f"== Casting ballots over HTTP ==\n{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
        f"{args.voters} voters, one yes/no/abstain secret ballot each, every proof checked by the server; "
        f"{args.concurrency} requests in flight from one load-generator process",
        flush=True,
    )
    results = []
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        if kind == "postgres" and (problem := postgres_problem()):
            print(f"\n== PostgreSQL ==\n  skipped: {problem}")
            continue
        results.append(bench_database(kind, args))
    rows = []
    for r in results:
        if "fired" not in r:
            rows.append([r["database"], "failed", "", "", "", "", ""])
            continue
        f = r["fired"]
        per = r.get("cpu_per_ballot", {})
        rows.append(
            [
                r["database"],
                f"{r['rate']:.0f}",
                ms(f["p50"]),
                ms(f["p95"]),
                f["sent"] - f["accepted"],
                " / ".join(ms(per[k]) for k in ("server", "database", "loadgen")) if per else "—",
                "ok" if r.get("tally", {}).get("counts_ok") and r["tally"].get("verified") else "—",
            ]
        )
    print("\n== Summary ==\n")
    print(
        table(
            [
                "database",
                "ballots/s",
                "p50",
                "p95",
                "errors",
                "CPU/ballot: server / PG / loadgen",
                "tally+verify",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
