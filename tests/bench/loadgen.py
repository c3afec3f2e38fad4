"""The fallback load generator when wrk is not installed: N clients on asyncio + httpx,
each sending requests one after another for a fixed time; prints one JSON line.

  python -m tests.bench.loadgen --url URL [--header 'Name: value'] --connections 50 --duration 15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter

import httpx

from tests.bench.stats import percentile


async def client_loop(
    client: httpx.AsyncClient,
    url: str,
    deadline: float,
    latencies: list[float],
    statuses: Counter[int],
    errors: list[int],
) -> None:
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        try:
            response = await client.get(url)
            await response.aread()
        except httpx.HTTPError:
            errors[0] += 1
            continue
        latencies.append(time.perf_counter() - start)
        statuses[response.status_code] += 1


async def main(url: str, headers: dict[str, str], connections: int, duration: float) -> dict[str, object]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = [0]
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as client:
        start = time.perf_counter()
        deadline = start + duration
        await asyncio.gather(
            *(client_loop(client, url, deadline, latencies, statuses, errors) for _ in range(connections))
        )
        elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "duration": elapsed,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies, default=0.0),
        "statuses": {str(k): v for k, v in statuses.items()},
        "socket_errors": errors[0],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=15)
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    print(json.dumps(asyncio.run(main(args.url, headers, args.connections, args.duration))))
