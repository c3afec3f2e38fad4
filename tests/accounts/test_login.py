"""Logging in and out, lock-out, rate limit, rehash, sessions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from council.accounts import passwords
from council.accounts.tables import Role, User
from council.audit.tables import AuditEntry
from tests.factories import PASSWORD, csrf_from, form_post, login, make_community, make_user


async def test_login_then_logout(client: Any, settings: Any) -> None:
    c = await make_community()
    await make_user(settings, "staff", [(Role.staff, c.community["id"])])
    response = await login(client, "staff")
    assert response.status_code == 303 and response.headers["location"] == "/"
    me = await client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["username"] == "staff"
    assert me.json()["roles"][0]["role"] == "staff"
    assert "httponly" in response.headers["set-cookie"].lower()
    out = await form_post(client, "/logout", {}, page="/")
    assert out.status_code == 303
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_wrong_password_is_refused_and_counted(client: Any, settings: Any) -> None:
    await make_user(settings, "alice", [])
    response = await login(client, "alice", "not the password")
    assert response.status_code == 401
    assert "alice" in response.text  # the form keeps the username
    user = await User.objects().where(User.username == "alice").first()
    assert user.failed_logins == 1
    assert await AuditEntry.count().where(AuditEntry.action == "login_failed") == 1


async def test_lockout_after_repeated_failures(client: Any, settings: Any) -> None:
    await make_user(settings, "bob", [])
    for _ in range(settings.login_max_failures):
        await login(client, "bob", "wrong wrong")
    locked = await login(client, "bob", PASSWORD)
    assert locked.status_code == 429
    assert (await client.get("/api/v1/me")).status_code == 401
    assert await AuditEntry.count().where(AuditEntry.action == "locked_out") == 1


async def test_login_rate_limit_per_client(client: Any, settings: Any) -> None:
    await make_user(settings, "carol", [])
    statuses = [
        (await login(client, f"nobody{i}", "x")).status_code
        for i in range(settings.login_rate_per_minute + 1)
    ]
    assert statuses[-1] == 429
    assert set(statuses[:-1]) == {401}


async def test_unknown_user_gets_the_same_answer(client: Any, settings: Any) -> None:
    await make_user(settings, "dave", [])
    unknown = await login(client, "nobody", "whatever1")
    wrong = await login(client, "dave", "whatever1")
    assert unknown.status_code == wrong.status_code == 401


async def test_login_rehashes_when_parameters_change(client: Any, settings: Any) -> None:
    weak = replace(settings, argon2_time_cost=1, argon2_memory_kib=8192)
    await make_user(weak, "erin", [])
    old = (await User.objects().where(User.username == "erin").first()).password_hash
    assert "m=8192" in old
    assert (await login(client, "erin")).status_code == 303
    new = (await User.objects().where(User.username == "erin").first()).password_hash
    assert new != old and f"m={settings.argon2_memory_kib}" in new
    assert passwords.verify_password(settings, new, PASSWORD)


async def test_open_redirect_is_refused(client: Any, settings: Any) -> None:
    await make_user(settings, "fay", [])
    page = await client.get("/login?next=//evil.example/")
    response = await client.post(
        "/login",
        data={
            "username": "fay",
            "password": PASSWORD,
            "next": "//evil.example/",
            "_csrf_token": csrf_from(page.text),
        },
    )
    assert response.headers["location"] == "/"


async def test_password_change_ends_other_sessions(client: Any, settings: Any) -> None:
    from litestar.testing import AsyncTestClient

    await make_user(settings, "gus", [])
    await login(client, "gus")
    async with AsyncTestClient(app=client.app, base_url="http://testserver.local") as other:
        other.follow_redirects = False
        await login(other, "gus")
        assert (await other.get("/api/v1/me")).status_code == 200
        changed = await form_post(
            client, "/account/password", {"current_password": PASSWORD, "new_password": "a new password"}
        )
        assert changed.status_code == 303
        assert (await client.get("/api/v1/me")).status_code == 200, "this session stays"
        assert (await other.get("/api/v1/me")).status_code == 401, "the other session ends"
    assert (await login(client, "gus", "a new password")).status_code == 303


async def test_password_change_with_wrong_current_password_changes_nothing(
    client: Any, settings: Any
) -> None:
    await make_user(settings, "hal", [])
    await login(client, "hal")
    before = await AuditEntry.count()
    response = await form_post(
        client, "/account/password", {"current_password": "wrong one", "new_password": "another pass"}
    )
    assert response.status_code == 400
    assert await AuditEntry.count() == before


async def test_login_gives_a_new_session_id(client: Any, settings: Any) -> None:
    """A session id planted before login (session fixation) is not the logged-in one."""
    from litestar.testing import AsyncTestClient

    await make_user(settings, "ivy", [])
    planted = "a" * 64
    client.cookies.set("council_session", planted, domain="testserver.local")
    assert (await login(client, "ivy")).status_code == 303
    assert client.cookies.get("council_session", domain="testserver.local") not in (None, planted)
    assert (await client.get("/api/v1/me")).status_code == 200
    async with AsyncTestClient(app=client.app, base_url="http://testserver.local") as attacker:
        attacker.cookies.set("council_session", planted, domain="testserver.local")
        assert (await attacker.get("/api/v1/me")).status_code == 401
