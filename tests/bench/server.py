"""A scratch database with the demo community, and `council serve` in its own process."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COUNCIL = str(BIN / "council")

# Logins from one address are limited per minute; the benchmark logs in more often than that.
BENCH_ENV = {"COUNCIL_LOGIN_RATE_PER_MINUTE": "1000000"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_admin_url() -> str:
    return os.environ.get("COUNCIL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _pg(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None."""
    url = postgres_admin_url()
    try:
        asyncio.run(_pg(url, "SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        return f"PostgreSQL at {url} is unreachable: {type(exc).__name__}: {exc}"
    return None


class Scratch:
    """A temporary data directory and a database (a SQLite file in it, or a fresh
    PostgreSQL database), migrated, with the demo community; removed by close()."""

    def __init__(self, kind: str, pg_name: str = "council_bench") -> None:
        self.kind = kind
        self.dir = Path(tempfile.mkdtemp(prefix=f"council-bench-{kind}-"))
        self.pg_name = pg_name
        if kind == "sqlite":
            self.url = f"sqlite:///{self.dir / 'council.sqlite3'}"
        else:
            self.url = _with_database(postgres_admin_url(), pg_name)
        self.env = {
            **os.environ,
            **BENCH_ENV,
            "PICCOLO_CONF": "council.piccolo_conf",
            "COUNCIL_DATABASE_URL": self.url,
            "COUNCIL_DATA_DIR": str(self.dir / "data"),
        }
        self._created = False

    def create(self) -> None:
        if self.kind == "postgres":
            asyncio.run(
                _pg(
                    postgres_admin_url(),
                    f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)',
                    f'CREATE DATABASE "{self.pg_name}"',
                )
            )
        self._created = True
        self.run([COUNCIL, "migrate"])
        out = self.run([COUNCIL, "demo", "--if-empty"])
        if "staff" not in out:
            raise RuntimeError(f"demo did not load:\n{out}")

    def run(self, argv: list[str]) -> str:
        done = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def token(self, username: str) -> str:
        out = self.run([sys.executable, "-m", "tests.bench.mktoken", username])
        match = re.search(r"cncl_\S+", out)
        if not match:
            raise RuntimeError(f"no token made:\n{out}")
        return match.group(0)

    def close(self) -> None:
        if self.kind == "postgres" and self._created:
            try:
                asyncio.run(
                    _pg(postgres_admin_url(), f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
                )
            except Exception as exc:  # noqa: BLE001 - report and go on cleaning
                print(f"  (could not drop database {self.pg_name}: {exc})")
        shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    """`council serve` in a new process group, so stop() ends it and its workers."""

    def __init__(self, scratch: Scratch, workers: int) -> None:
        self.scratch = scratch
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = scratch.dir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.stop_offset: int | None = None

    def start(self, timeout: float = 60) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                COUNCIL,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            cwd=ROOT,
            env=self.scratch.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    problems = summarize_errors(self.log_text())
                    why = problems[0] if problems else "see its log below"
                    raise RuntimeError(
                        f"the server exited ({self.process.returncode}): {why}\n{self.log_tail()}"
                    )
                try:
                    if client.get(f"{self.base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            else:
                raise RuntimeError(f"no answer on /healthz within {timeout:.0f} s:\n{self.log_tail()}")
            # Every worker should be up before load: a few more answers, then a moment.
            for _ in range(10):
                client.get(f"{self.base}/healthz")
        time.sleep(1.0)

    def stop(self) -> None:
        process = self.process
        if self._log is not None:
            self._log.flush()
        self.stop_offset = len(self.log_text())
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGINT)
                process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_problems(self, during: str = "all") -> list[str]:
        """What the server log tells of errors, counted: `N × GET /path: ExcType: message`.

        during: "run" (before stop() was called), "shutdown" (after), or "all"."""
        text = self.log_text()
        if during == "run":
            text = text[: self.stop_offset] if self.stop_offset is not None else text
        elif during == "shutdown":
            text = text[self.stop_offset :] if self.stop_offset is not None else ""
        return summarize_errors(text)


_UNHANDLED = re.compile(r"unhandled error on (\S+) (\S+)")
_EXCEPTION = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Timeout)(?:: .*)?$")
_OTHER = re.compile(r"Traceback|\bERROR\b|CRITICAL|database is locked", re.IGNORECASE)


def summarize_errors(text: str) -> list[str]:
    counts: Counter[tuple[str, str]] = Counter()
    other: list[str] = []
    current: str | None = None
    in_traceback = False
    for line in text.splitlines():
        match = _UNHANDLED.search(line)
        if match:
            if current:
                counts[(current, "?")] += 1
            current = f"{match.group(1)} {match.group(2)}"
            continue
        if line.startswith("Traceback"):
            in_traceback = True
            continue
        if _EXCEPTION.match(line):
            in_traceback = False
            if current:
                counts[(current, line.strip()[:200])] += 1
                current = None
            else:
                other.append(line.strip())
            continue
        if not in_traceback and _OTHER.search(line) and not line.startswith(" "):
            other.append(line.strip())
    if current:
        counts[(current, "?")] += 1
    out = [f"{n} × {where}: {what}" for (where, what), n in counts.most_common()]
    out.extend(f"{n} × {line[:200]}" for line, n in Counter(other).most_common())
    return out
