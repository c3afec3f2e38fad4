"""The database engine, chosen by COUNCIL_DATABASE_URL, and the write transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

# How long a SQLite writer waits for the lock before giving up (seconds).
SQLITE_BUSY_TIMEOUT = 30.0


def sqlite_path(url: str) -> str:
    """sqlite:///var/x.db is relative, sqlite:////srv/x.db absolute (as in SQLAlchemy)."""
    return url.removeprefix("sqlite:///")


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine opens a connection (and a thread) for every query outside a
    transaction. When a pool size is set (by a serving process), queries outside
    transactions reuse a few open connections instead; transactions keep their own.

    The pool belongs to one event loop; with no pool size it behaves as Piccolo's engine.
    """

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path=path, **kwargs)
        self.pool_size = 0
        self._pools: dict[int, asyncio.Queue[aiosqlite.Connection]] = {}

    async def _pooled(self) -> asyncio.Queue[aiosqlite.Connection]:
        key = id(asyncio.get_running_loop())
        pool = self._pools.get(key)
        if pool is None:
            pool = asyncio.Queue()
            for _ in range(self.pool_size):
                pool.put_nowait(await self.get_connection())
            self._pools[key] = pool
        return pool

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        if self.pool_size <= 0:
            return await super()._run_in_new_connection(query, args, query_type, table)
        pool = await self._pooled()
        connection = await pool.get()
        try:
            async with connection.execute(query, args or []) as cursor:
                await connection.commit()
                return await cursor.fetchall()
        finally:
            pool.put_nowait(connection)

    async def close_pool(self) -> None:
        pool = self._pools.pop(id(asyncio.get_running_loop()), None)
        while pool is not None and not pool.empty():
            await pool.get_nowait().close()


class LoopPooledPostgresEngine(PostgresEngine):
    """Piccolo's PostgreSQL engine keeps one pool, which belongs to the event loop that made
    it; asyncpg fails when another loop uses it. Here each running loop has its own pool
    (a serving process has one loop; a test has its own and the test client's), and a loop
    without a pool opens a connection per query, as Piccolo does.
    """

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        self._pools: dict[asyncio.AbstractEventLoop, Any] = {}
        super().__init__(config=config, **kwargs)

    @property
    def pool(self) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._pools.get(loop)

    @pool.setter
    def pool(self, value: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # Piccolo's __init__ sets None before any loop runs
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value


def make_engine(url: str) -> Engine[Any]:
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return PooledSQLiteEngine(path=path, timeout=SQLITE_BUSY_TIMEOUT)
    if url.startswith(("postgresql://", "postgres://")):
        # Plan each search for its own words: a cached generic plan for LIKE '%停车%' walks the
        # trigram index for every row, where a custom plan scans in order and stops early.
        return LoopPooledPostgresEngine(
            config={"dsn": url, "server_settings": {"plan_cache_mode": "force_custom_plan"}}
        )
    raise SystemExit(f"COUNCIL_DATABASE_URL must start with sqlite:/// or postgresql://, got {url!r}")


def engine() -> Engine[Any]:
    from council.piccolo_conf import DB

    return DB


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


def prepare_sqlite_file(path: str) -> None:
    """WAL lets readers go on while one writer writes; the mode is kept in the file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def write_transaction() -> Any:
    """One transaction for a state change and its audit entry.

    SQLite takes the write lock at BEGIN (IMMEDIATE), so two writers queue instead of
    failing with "database is locked" half-way through.
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


async def ping() -> bool:
    try:
        await engine().run_ddl("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True
