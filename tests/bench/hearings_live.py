"""Live updates of one hearing to many participants: `python -m tests.bench.hearings_live`.

A scratch PostgreSQL database (migrated, demo loaded), two `council serve` processes (one
granian worker each) sharing Redis, one hearing in session, P participants connected by
Server-Sent Events (GET /api/v1/hearings/{id}/events), half on each server, held by C
separate client processes (asyncio + httpx streaming). The host then acts A times through
the first server (adds someone in the room to the queue, gives the floor / moves to the
next speaker, by turns), a pause after each; for each action: the time from sending the host's request to
the LAST of the P clients holding the new version. Printed: connection set-up, p50/p95/max
of that time, and the CPU each part used (server processes, PostgreSQL, Redis, the client
processes: they share this machine's cores). Figures, never pass/fail.

  python -m tests.bench.hearings_live [--participants 300] [--actions 20] [--clients 2]
      [--servers 2] [--workers 1] [--pause 0.7]
  python -m tests.bench.hearings_live prepare            (in the scratch database: tokens, ids)
  python -m tests.bench.hearings_live listen --url U --hearing H --count N   (one client process)
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
from typing import IO, Any

import httpx

from tests.bench import cpu
from tests.bench.server import ROOT, Scratch, Server, postgres_problem
from tests.bench.stats import ms, percentile, table

# A database of its own, emptied at the end (the tests use 15).
REDIS_URL = os.environ.get("COUNCIL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


# One client process ---------------------------------------------------------------------------


async def _follow(
    client: httpx.AsyncClient, url: str, arrivals: list[tuple[int, float]], ready: asyncio.Event
) -> None:
    """One participant: every `state` event's version with the time it was complete."""
    async with client.stream("GET", url) as response:
        response.raise_for_status()
        version = None
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                version = int(line[4:])
            elif line == "" and version is not None:
                arrivals.append((version, time.monotonic()))
                version = None
                ready.set()


async def listen(urls: list[str], hearing: int, count: int) -> None:
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    timeout = httpx.Timeout(30, read=None)
    per_stream: list[list[tuple[int, float]]] = [[] for _ in range(count)]
    setup: list[float] = []
    failures: list[str] = []

    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:

        async def one(k: int) -> None:
            ready = asyncio.Event()
            url = f"{urls[k % len(urls)]}/api/v1/hearings/{hearing}/events"
            started = time.monotonic()
            task = asyncio.create_task(_follow(client, url, per_stream[k], ready))
            waiting = asyncio.create_task(ready.wait())
            await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if ready.is_set():
                setup.append(time.monotonic() - started)
            else:
                waiting.cancel()
                failures.append(repr(task.exception()) if task.done() else "no first event")
            tasks.append(task)

        tasks: list[asyncio.Task[None]] = []
        started = time.monotonic()
        await asyncio.gather(*(one(k) for k in range(count)))
        print(
            json.dumps(
                {"ready": len(setup), "setup": setup, "all": time.monotonic() - started, "failures": failures}
            ),
            flush=True,
        )
        # until the driver says stop (a line on stdin, or its end)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    own = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"arrivals": per_stream, "cpu": own.ru_utime + own.ru_stime}), flush=True)


# The database side ----------------------------------------------------------------------------


async def prepare() -> dict[str, Any]:
    from council.accounts.tables import User
    from council.community.tables import Node, NodeKind
    from tests.bench.mktoken import make

    host = await User.select(User.id).where(User.username == "host").first()
    secretary = await User.select(User.id).where(User.username == "secretary").first()
    community = await Node.select(Node.id).where(Node.kind == NodeKind.community.value).first()
    assert host and secretary and community, "the demo community is missing"
    return {
        "host_token": await make("host"),
        "host_id": host["id"],
        "secretary_id": secretary["id"],
        "scope_id": community["id"],
    }


# The driver -----------------------------------------------------------------------------------


def _redis_problem() -> str | None:
    import redis

    try:
        redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        return f"Redis at {REDIS_URL} is unreachable: {type(exc).__name__}: {exc}"
    return None


def _flush_redis() -> None:
    """The benchmark's own Redis database (REDIS_URL): the servers' sessions go with it."""
    import redis

    try:
        redis.from_url(REDIS_URL, socket_timeout=3).flushdb()
    except Exception as exc:  # noqa: BLE001 - report and go on
        print(f"  (could not empty {REDIS_URL}: {exc})")


def _named_cpu(name: str) -> float:
    """CPU seconds of every process called `name` (redis-server)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                head, _, tail = f.read().rpartition(")")
        except OSError:
            continue
        if head.partition("(")[2] == name:
            fields = tail.split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _rss_mb(pgid: int) -> float:
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return total / 2**20


class Cpu:
    """CPU seconds of process groups (the servers, the client processes), PostgreSQL and Redis."""

    def __init__(self, groups: dict[str, int]) -> None:
        self.groups = groups

    def read(self) -> dict[str, float]:
        out = {"at": time.monotonic(), "redis": _named_cpu("redis-server")}
        for name, pgid in self.groups.items():
            out[name], out["postgresql"] = cpu._processes_cpu(pgid)
        return out

    @staticmethod
    def cores(before: dict[str, float], after: dict[str, float]) -> str:
        seconds = after["at"] - before["at"]
        return ", ".join(
            f"{name} {(after[name] - before[name]) / seconds:.2f}" for name in after if name != "at"
        )

    @staticmethod
    def each(before: dict[str, float], after: dict[str, float], count: int) -> str:
        return ", ".join(
            f"{name} {ms((after[name] - before[name]) / count)}" for name in after if name != "at"
        )


def _line(process: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    """The next JSON line a client process prints."""
    import selectors

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise RuntimeError(f"a client process said nothing within {timeout:.0f} s")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"a client process ended ({process.poll()})")
    data: dict[str, Any] = json.loads(line)
    return data


def run(args: argparse.Namespace) -> None:
    print(
        f"\n## Live updates of a hearing: {args.participants} participants by SSE, {args.servers} server "
        f"processes × {args.workers} worker(s) sharing Redis, PostgreSQL, {args.clients} client processes\n",
        flush=True,
    )
    for problem in (postgres_problem(), _redis_problem()):
        if problem:
            print(f"  skipped: {problem}")
            return
    scratch = Scratch("postgres", pg_name="council_bench_hearings")
    servers: list[Server] = []
    clients: list[subprocess.Popen[str]] = []
    stderr: list[IO[str]] = []
    try:
        started = time.monotonic()
        scratch.create()
        print(f"  scratch database migrated, demo loaded ({time.monotonic() - started:.1f} s)", flush=True)
        ids = json.loads(
            scratch.run([sys.executable, "-m", "tests.bench.hearings_live", "prepare"]).splitlines()[-1]
        )
        scratch.env["COUNCIL_REDIS_URL"] = REDIS_URL
        for k in range(args.servers):
            server = Server(scratch, args.workers)
            server.log_path = scratch.dir / f"server-{k + 1}.log"
            server.start()
            servers.append(server)
        host = httpx.Client(
            base_url=servers[0].base, timeout=30, headers={"authorization": f"Bearer {ids['host_token']}"}
        )
        hearing_id = _hearing_in_session(host, ids)
        rss_before = [_rss_mb(s.process.pid) for s in servers if s.process]

        per_client = [
            args.participants // args.clients + (k < args.participants % args.clients)
            for k in range(args.clients)
        ]
        urls = ",".join(s.base for s in servers)
        for k, count in enumerate(per_client):
            log = (scratch.dir / f"client-{k + 1}.log").open("w")
            stderr.append(log)
            clients.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tests.bench.hearings_live",
                        "listen",
                        "--url",
                        urls,
                        "--hearing",
                        str(hearing_id),
                        "--count",
                        str(count),
                    ],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    start_new_session=True,
                )
            )
        groups = {f"server {k + 1}": s.process.pid for k, s in enumerate(servers) if s.process}
        groups.update({f"clients {k + 1}": c.pid for k, c in enumerate(clients)})
        meter = Cpu(groups)
        before = meter.read()
        opened = time.monotonic()
        readies = [_line(c, 120) for c in clients]
        opened = time.monotonic() - opened
        after = meter.read()
        setup = [s for r in readies for s in r["setup"]]
        failures = [f for r in readies for f in r["failures"]]
        rss_after = [_rss_mb(s.process.pid) for s in servers if s.process]
        print(
            f"  connected: {len(setup)} of {args.participants} in {opened:.2f} s (client processes started to "
            f"all first events); per connection to its first event p50 {ms(percentile(setup, 50))}, "
            f"p95 {ms(percentile(setup, 95))}, max {ms(max(setup) if setup else float('nan'))}"
            + (f"; {len(failures)} failed: {failures[:3]}" if failures else ""),
            flush=True,
        )
        print(
            "  server memory (RSS) before → after connecting: "
            + ", ".join(f"{b:.0f} → {a:.0f} MB" for b, a in zip(rss_before, rss_after, strict=True)),
            flush=True,
        )
        print(
            f"  CPU in cores while connecting ({after['at'] - before['at']:.1f} s): {Cpu.cores(before, after)}"
        )

        before = meter.read()
        sent: list[tuple[str, float, int, float]] = []  # (action, when sent, version after it, answer time)
        for k in range(args.actions):
            action = "add" if k % 2 == 0 else "give" if k == 1 else "next"
            at = time.monotonic()
            if action == "add":
                answer = host.post(f"/api/v1/hearings/{hearing_id}/floor/add", json={"name": f"来宾{k + 1}"})
            else:
                answer = host.post(f"/api/v1/hearings/{hearing_id}/floor/{action}", json={})
            answered = time.monotonic() - at
            if answer.status_code >= 300:
                raise RuntimeError(f"{action}: {answer.status_code} {answer.text}")
            time.sleep(args.pause)
            version = host.get(f"/api/v1/hearings/{hearing_id}/live").json()["version"]
            sent.append((action, at, version, answered))
        after = meter.read()
        for client in clients:
            assert client.stdin is not None
            client.stdin.write("stop\n")
            client.stdin.flush()
        results = [_line(c, 60) for c in clients]
        streams = [s for r in results for s in r["arrivals"]]
        _report(sent, streams)
        print(
            "  CPU per action (its fan-out, the pause after it and the host's GET /live): "
            + Cpu.each(before, after, len(sent))
            + f"; the client processes used {sum(r['cpu'] for r in results):.1f} CPU-s in all, connecting included"
        )
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
            client.wait(timeout=10)
        for log in stderr:
            log.close()
        for server in servers:
            server.stop()
            problems = server.log_problems()
            if problems:
                print(f"  {server.log_path.name}: " + "; ".join(problems[:5]))
        scratch.close()
        _flush_redis()


def _hearing_in_session(host: httpx.Client, ids: dict[str, Any]) -> int:
    from datetime import UTC, datetime, timedelta

    body = {
        "kind": "council_meeting",
        "title": "加装电梯议事会（基准测试）",
        "scope_id": ids["scope_id"],
        "starts_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        "place": "社区议事厅",
        "online": True,
        "host_id": ids["host_id"],
        "secretary_id": ids["secretary_id"],
        "items": [{"title": "电梯选址", "minutes_budget": 30}, {"title": "费用分摊", "minutes_budget": 30}],
    }
    made = host.post("/api/v1/hearings", json=body)
    assert made.status_code == 201, made.text
    hearing_id = int(made.json()["id"])
    assert host.post(f"/api/v1/hearings/{hearing_id}/start", json={}).status_code == 200
    item = host.get(f"/api/v1/hearings/{hearing_id}/live").json()["items"][0]["id"]
    assert host.post(f"/api/v1/hearings/{hearing_id}/items/{item}/open", json={}).status_code == 200
    return hearing_id


def _report(
    sent: list[tuple[str, float, int, float]],
    streams: list[list[list[float]]],
) -> None:
    rows = []
    lasts: list[float] = []
    firsts: list[float] = []
    missing = 0
    for k, (action, at, version, _) in enumerate(sent):
        times = []
        for arrivals in streams:
            # the first event holding this version or a later one
            got = [t for v, t in arrivals if v >= version]
            if got:
                times.append(min(got) - at)
            else:
                missing += 1
        if not times:
            continue
        last, first = max(times), min(times)
        lasts.append(last)
        firsts.append(first)
        if k < 3 or k == len(sent) - 1:
            rows.append((k + 1, action, version, len(times), ms(first), ms(percentile(times, 50)), ms(last)))
    print()
    print(table(["action", "verb", "version", "clients", "first", "median client", "last client"], rows))
    print(
        f"\n  host's request → LAST of {len(streams)} clients has it, over {len(lasts)} actions: "
        f"p50 {ms(percentile(lasts, 50))}, p95 {ms(percentile(lasts, 95))}, max {ms(max(lasts))} "
        f"(target p95 ≤ 1 s); → first client p50 {ms(percentile(firsts, 50))}"
        + (f"; {missing} deliveries missing" if missing else "; none missing")
    )
    answers = [a for *_, a in sent]
    print(
        f"  the host's request itself (answer received): p50 {ms(percentile(answers, 50))}, max {ms(max(answers))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.hearings_live")
    sub = parser.add_subparsers(dest="command")
    listen_cmd = sub.add_parser("listen")
    listen_cmd.add_argument("--url", required=True)
    listen_cmd.add_argument("--hearing", type=int, required=True)
    listen_cmd.add_argument("--count", type=int, required=True)
    sub.add_parser("prepare")
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--actions", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pause", type=float, default=0.7)
    args = parser.parse_args()
    if args.command == "listen":
        asyncio.run(listen(args.url.split(","), args.hearing, args.count))
    elif args.command == "prepare":
        os.environ.setdefault("PICCOLO_CONF", "council.piccolo_conf")
        print(json.dumps(asyncio.run(prepare())))
    else:
        run(args)


if __name__ == "__main__":
    main()
