"""Test set-up: a fresh database per test, on SQLite or PostgreSQL.

The suite runs once per database: COUNCIL_TEST_DB=sqlite (default) or postgres. The
PostgreSQL run skips with a reason when the server is unreachable, except in CI
(CI=true), where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

TEST_DB = os.environ.get("COUNCIL_TEST_DB", "sqlite")
POSTGRES_URL = os.environ.get("COUNCIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

_WORK = Path(tempfile.mkdtemp(prefix="council-tests-"))
_TEMPLATE = _WORK / "template.sqlite3"
os.environ["PICCOLO_CONF"] = "council.piccolo_conf"
os.environ["COUNCIL_DATA_DIR"] = str(_WORK / "data")
os.environ["COUNCIL_SECRET_KEY"] = "test-secret-key-0123456789abcdef0123456789"
os.environ.pop("COUNCIL_REDIS_URL", None)
if TEST_DB == "postgres":
    os.environ["COUNCIL_DATABASE_URL"] = POSTGRES_URL
else:
    os.environ["COUNCIL_DATABASE_URL"] = f"sqlite:///{_TEMPLATE}"

_postgres_problem: str | None = None


def _postgres_reachable() -> str | None:
    import asyncpg

    async def probe() -> None:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    global _postgres_problem
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line(
        "markers", "database: opens the database without the db fixture (runs in both passes)"
    )
    if TEST_DB == "postgres":
        _postgres_problem = _postgres_reachable()
        if _postgres_problem and IN_CI:
            raise pytest.UsageError(f"CI needs PostgreSQL: {_postgres_problem}")


def pytest_report_header(config: pytest.Config) -> str:
    return f"council database: {TEST_DB} ({os.environ['COUNCIL_DATABASE_URL']})"


DATABASE_FIXTURES = {"db", "settings", "client", "live_client", "mail_settings"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _postgres_problem:
        skip = pytest.mark.skip(reason=_postgres_problem)
        for item in items:
            item.add_marker(skip)
    elif TEST_DB == "postgres":
        # A test that opens no database (the crypto, the verifier, vote.js, the catalogues) has
        # nothing to learn from a second pass: it ran in the SQLite pass.
        same = pytest.mark.skip(reason="uses no database: it runs in the SQLite pass")
        for item in items:
            uses = set(getattr(item, "fixturenames", ()))
            if not uses & DATABASE_FIXTURES and not item.get_closest_marker("database"):
                item.add_marker(same)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_WORK, ignore_errors=True)


_TABLES = [
    "hearing_attachment",
    "motion",
    "statement",
    "speaker",
    "attendance",
    "agenda_item",
    "hearing",
    "ballot_proxy",
    "ballot_ciphertext",
    "ballot_board",
    "ballot_roster",
    "ballot_trustee",
    "ballot",
    "wish_order_note",
    "wish_order",
    "community_rules",
    "proposal_photo",
    "comment",
    "cosign",
    "proposal",
    "notification",
    "outbox_email",
    "api_token",
    "invitation",
    "role_assignment",
    "account",
    "resident",
    "node",
    "audit_entry",
]
_migrated = False
POOL_SIZE = 8


async def _migrate_once() -> None:
    global _migrated
    if _migrated:
        return
    from council.cli import migrate

    if TEST_DB == "postgres":
        from council.db import engine

        # A clean schema: the suite owns the test database.
        await engine().run_ddl("DROP SCHEMA public CASCADE")
        await engine().run_ddl("CREATE SCHEMA public")
        await engine().run_ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    await migrate(quiet=True)
    _migrated = True


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[None]:
    """A fresh, migrated, empty database for one test."""
    from council.db import engine

    await _migrate_once()
    if TEST_DB == "postgres":
        db_engine = engine()
        await db_engine.run_ddl(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in _TABLES) + " RESTART IDENTITY CASCADE"
        )
        # The test's own loop gets a pool, as a serving process has (a connection per
        # query costs ~3.5 ms here); the app under the test client gets another.
        await db_engine.start_connection_pool(min_size=1, max_size=POOL_SIZE)
        try:
            yield
        finally:
            await db_engine.close_connection_pool()
    else:
        path = tmp_path / "council.sqlite3"
        shutil.copyfile(_TEMPLATE, path)
        db_engine: Any = engine()
        db_engine.path = str(path)
        yield
        db_engine.path = str(_TEMPLATE)


@pytest.fixture
def settings(tmp_path: Path, db: None) -> Any:
    from dataclasses import replace

    from council.settings import Settings

    return replace(
        Settings.from_env(),
        data_dir=tmp_path / "data",
        # SQLite's pool would outlive the per-test file it was opened on.
        db_pool_size=POOL_SIZE if TEST_DB == "postgres" else 0,
        base_url="http://testserver.local",
    )


@pytest.fixture
async def client(settings: Any) -> AsyncIterator[Any]:
    from litestar.testing import AsyncTestClient

    from council.app import create_app

    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as c:
        c.follow_redirects = False
        yield c
        if TEST_DB == "postgres":
            await _close_app_pool(c)


async def _close_app_pool(client: Any) -> None:
    """The app's pool lives on the test client's own loop: close it there (a serving process
    leaves it to its exit)."""
    import anyio.to_thread

    from council.db import engine

    async def close() -> None:
        if engine().pool is not None:
            await engine().close_connection_pool()

    await anyio.to_thread.run_sync(client.blocking_portal.call, close)


@pytest.fixture
async def live_client(settings: Any) -> AsyncIterator[Any]:
    """A client whose requests really run at the same time (the test client serialises them)."""
    import httpx

    from council.app import create_app

    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def work_dir() -> Iterator[Path]:
    yield _WORK
