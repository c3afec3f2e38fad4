"""Concurrent writers: no "database is locked", no lost write, an intact audit chain."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from council.accounts.tables import Role
from council.audit.service import verify_chain
from council.community.tables import Resident
from tests.factories import login, make_community, make_user


async def test_concurrent_writes_all_land_with_an_intact_chain(live_client: Any, settings: Any) -> None:
    c = await make_community()
    await make_user(settings, "staff", [(Role.staff, c.community["id"])])
    await login(live_client, "staff")
    live_client.headers["x-csrftoken"] = live_client.cookies.get("council_csrf")
    households = [h["id"] for h in c.households]

    async def add(i: int) -> int:
        response = await live_client.post(
            "/api/v1/residents",
            json={"code": f"C{i:03d}", "name": f"并发{i}", "household_id": households[i % len(households)]},
        )
        return int(response.status_code)

    statuses = await asyncio.gather(*(add(i) for i in range(40)))
    assert statuses == [201] * 40
    assert await Resident.count().where(Resident.code.like("C%")) == 40
    report = await verify_chain()
    assert report.ok, report.problem


async def test_concurrent_duplicate_codes_admit_exactly_one(live_client: Any, settings: Any) -> None:
    c = await make_community()
    await make_user(settings, "staff", [(Role.staff, c.community["id"])])
    await login(live_client, "staff")
    live_client.headers["x-csrftoken"] = live_client.cookies.get("council_csrf")

    async def add() -> int:
        response = await live_client.post(
            "/api/v1/residents", json={"code": "SAME", "name": "同号", "household_id": c.households[0]["id"]}
        )
        return int(response.status_code)

    statuses = await asyncio.gather(*(add() for _ in range(10)))
    assert statuses.count(201) == 1
    assert set(statuses) <= {201, 409}
    assert await Resident.count().where(Resident.code == "SAME") == 1
    assert (await verify_chain()).ok


async def test_pooled_sqlite_connections_serve_concurrent_requests(live_client: Any, settings: Any) -> None:
    from council.db import PooledSQLiteEngine, engine

    db = engine()
    if not isinstance(db, PooledSQLiteEngine):
        pytest.skip("the connection pool of SQLite only")
    c = await make_community()
    await make_user(settings, "staff", [(Role.staff, c.community["id"])])
    db.pool_size = 3
    try:
        await login(live_client, "staff")
        live_client.headers["x-csrftoken"] = live_client.cookies.get("council_csrf")

        async def read_and_write(i: int) -> tuple[int, int]:
            write = await live_client.post(
                "/api/v1/residents",
                json={"code": f"P{i:03d}", "name": f"池{i}", "household_id": c.households[i % 4]["id"]},
            )
            read = await live_client.get(f"/api/v1/residents?scope={c.community['id']}&limit=5")
            return write.status_code, read.status_code

        results = await asyncio.gather(*(read_and_write(i) for i in range(30)))
        assert results == [(201, 200)] * 30
        assert await Resident.count().where(Resident.code.like("P%")) == 30
    finally:
        await db.close_pool()
        db.pool_size = 0
