"""Several processes behind a proxy share sessions and login limits through Redis."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import pytest

from council.accounts.tables import Role
from tests.factories import login, make_community, make_user

REDIS_URL = os.environ.get("COUNCIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def _redis_or_skip() -> Any:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001
        await client.aclose()
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return client


async def test_a_session_made_by_one_process_works_in_another(settings: Any) -> None:
    from litestar.testing import AsyncTestClient

    from council.app import create_app

    redis = await _redis_or_skip()
    await redis.flushdb()
    shared = replace(settings, redis_url=REDIS_URL)
    c = await make_community()
    await make_user(settings, "staff", [(Role.staff, c.community["id"])])
    async with (
        AsyncTestClient(app=create_app(shared), base_url="http://testserver.local") as first,
        AsyncTestClient(app=create_app(shared), base_url="http://testserver.local") as second,
    ):
        first.follow_redirects = False
        assert (await login(first, "staff")).status_code == 303
        keys = [k async for k in redis.scan_iter("*")]
        assert any(b"sessions" in k for k in keys), keys
        second.cookies.update(first.cookies)
        me = await second.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["username"] == "staff"
    await redis.flushdb()
    await redis.aclose()
