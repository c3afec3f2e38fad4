"""Load from a second process on loopback: wrk when installed, else a Python fallback
(tests/bench/loadgen.py) in a subprocess. Both print the same figures."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Counts every answer that is not 2xx (wrk itself counts only >= 400) and prints the
# figures as `BENCH key=value` lines for the parser below.
WRK_SCRIPT = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d\n", summary.requests))
  io.write(string.format("BENCH duration_us=%d\n", summary.duration))
  io.write(string.format("BENCH bytes=%d\n", summary.bytes))
  io.write(string.format("BENCH socket_errors=%d\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("BENCH timeouts=%d\n", e.timeout))
  for _, p in ipairs({50, 90, 95, 99}) do
    io.write(string.format("BENCH p%d_us=%d\n", p, latency:percentile(p)))
  end
  io.write(string.format("BENCH mean_us=%d\n", latency.mean))
  io.write(string.format("BENCH max_us=%d\n", latency.max))
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    if counts then
      for status, n in pairs(counts) do
        merged[status] = (merged[status] or 0) + n
      end
    end
  end
  local parts = {}
  for status, n in pairs(merged) do
    table.insert(parts, string.format("%d:%d", status, n))
  end
  io.write("BENCH statuses=" .. table.concat(parts, ",") .. "\n")
end
"""


@dataclass
class LoadFigures:
    tool: str
    requests: int
    duration: float
    p50: float
    p95: float
    p99: float
    max: float
    non_2xx: int
    socket_errors: int
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.duration if self.duration else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    path = wrk_path()
    if not path:
        return ""
    done = subprocess.run([path, "--version"], capture_output=True, text=True)
    match = re.search(r"wrk \S+", done.stdout + done.stderr)
    return match.group(0) if match else "wrk"


def run_wrk(url: str, headers: dict[str, str], connections: int, duration: int, threads: int) -> LoadFigures:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        argv = [
            wrk_path() or "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
        ]
        for name, value in headers.items():
            argv += ["-H", f"{name}: {value}"]
        argv.append(url)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    finally:
        Path(script.name).unlink(missing_ok=True)
    values = dict(re.findall(r"^BENCH (\w+)=(.*)$", done.stdout, re.MULTILINE))
    if done.returncode != 0 or "requests" not in values:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    statuses = {
        int(s): int(n) for s, n in (part.split(":") for part in values["statuses"].split(",") if part)
    }
    return LoadFigures(
        tool="wrk",
        requests=int(values["requests"]),
        duration=int(values["duration_us"]) / 1e6,
        p50=int(values["p50_us"]) / 1e6,
        p95=int(values["p95_us"]) / 1e6,
        p99=int(values["p99_us"]) / 1e6,
        max=int(values["max_us"]) / 1e6,
        non_2xx=sum(statuses.values()),
        socket_errors=int(values["socket_errors"]),
        statuses=statuses,
    )


def run_python(url: str, headers: dict[str, str], connections: int, duration: int) -> LoadFigures:
    argv = [
        sys.executable,
        "-m",
        "tests.bench.loadgen",
        "--url",
        url,
        "--connections",
        str(connections),
        "--duration",
        str(duration),
    ]
    for name, value in headers.items():
        argv += ["--header", f"{name}: {value}"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"the Python load generator failed ({done.returncode}):\n{done.stderr[-2000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    statuses = {int(k): v for k, v in data["statuses"].items()}
    return LoadFigures(
        tool="python",
        requests=data["requests"],
        duration=data["duration"],
        p50=data["p50"],
        p95=data["p95"],
        p99=data["p99"],
        max=data["max"],
        non_2xx=sum(n for s, n in statuses.items() if not 200 <= s < 300),
        socket_errors=data["socket_errors"],
        statuses={s: n for s, n in statuses.items() if not 200 <= s < 300},
    )


def run(
    url: str, headers: dict[str, str], connections: int, duration: int, tool: str, threads: int
) -> LoadFigures:
    if tool == "wrk" or (tool == "auto" and wrk_path()):
        return run_wrk(url, headers, connections, duration, threads)
    return run_python(url, headers, connections, duration)
