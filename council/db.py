"""The database engine, chosen by COUNCIL_DATABASE_URL, and the write transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

# How long a SQLite writer waits for the lock before giving up (seconds).
SQLITE_BUSY_TIMEOUT = 30.0


def sqlite_path(url: str) -> str:
    """sqlite:///var/x.db is relative, sqlite:////srv/x.db absolute (as in SQLAlchemy)."""
    return url.removeprefix("sqlite:///")


def make_engine(url: str) -> Engine[Any]:
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=path, timeout=SQLITE_BUSY_TIMEOUT)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(config={"dsn": url})
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
