"""The service as a whole: health, errors, OpenAPI, language."""

from __future__ import annotations

from typing import Any

from tests.factories import csrf_from


async def test_healthz_reports_database(client: Any) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_api_error_is_problem_details(client: Any) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 401 and body["type"] == "/problems/unauthorized"
    assert body["instance"] == "/api/v1/me"


async def test_unknown_page_is_readable_html_without_trace(client: Any) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    assert "<h1>" in response.text


async def test_openapi_lists_the_api(client: Any) -> None:
    response = await client.get("/api/docs/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/residents" in paths or "/api/v1/residents/" in paths
    assert any(p.startswith("/api/v1/users") for p in paths)
    assert not any(p.startswith("/roster") for p in paths), "HTML pages stay out of the API schema"


async def test_default_language_is_chinese_and_english_is_selectable(client: Any) -> None:
    page = await client.get("/login")
    assert 'lang="zh-Hans"' in page.text
    assert "登录" in page.text
    switched = await client.post(
        "/lang", data={"locale": "en", "next": "/login", "_csrf_token": csrf_from(page.text)}
    )
    assert switched.status_code == 303
    english = await client.get("/login")
    assert 'lang="en"' in english.text and "Log in" in english.text


async def test_form_without_csrf_token_is_refused(client: Any) -> None:
    response = await client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "Traceback" not in response.text


async def test_the_connection_pool_starts_with_the_default_size(settings: Any) -> None:
    """What `council serve` does at start-up: open the pool (PostgreSQL) or keep
    connections (SQLite) with the default COUNCIL_DB_POOL_SIZE."""
    from dataclasses import replace

    import anyio.to_thread
    from litestar.testing import AsyncTestClient

    from council.app import create_app
    from council.db import PooledSQLiteEngine, engine
    from council.settings import Settings

    db: Any = engine()
    pooled = replace(settings, db_pool_size=Settings.db_pool_size)

    async def app_pool() -> Any:
        return engine().pool  # the pool of the loop this runs on

    async def close_app_pool() -> None:
        await engine().close_connection_pool()

    try:
        async with AsyncTestClient(app=create_app(pooled)) as client:
            response = await client.get("/healthz")
            assert response.status_code == 200
            if isinstance(db, PooledSQLiteEngine):
                assert db.pool_size == Settings.db_pool_size
            else:
                # The app's pool is on the test client's loop, not on this test's own.
                pool = await anyio.to_thread.run_sync(client.blocking_portal.call, app_pool)
                assert pool is not None and pool is not db.pool
                assert pool.get_max_size() == Settings.db_pool_size
                await anyio.to_thread.run_sync(client.blocking_portal.call, close_app_pool)
    finally:
        if isinstance(db, PooledSQLiteEngine):
            db.pool_size = 0
