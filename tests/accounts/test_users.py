"""Accounts managed by staff: invitations, password resets, roles, tokens, guards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from council.accounts.tables import ApiToken, Invitation, Role, RoleAssignment, User
from council.audit.tables import AuditEntry
from tests.factories import PASSWORD, csrf_from, form_post, login, make_community, make_user


async def _staff(client: Any, settings: Any) -> Any:
    c = await make_community()
    await make_user(settings, "staff", [(Role.staff, c.community["id"])])
    await login(client, "staff")
    return c


def _token_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


async def test_invitation_sets_password_once(client: Any, settings: Any) -> None:
    c = await _staff(client, settings)
    created = await client.post(
        "/api/v1/users",
        json={"username": "wang", "display_name": "王伟", "resident_id": c.residents[0]["id"]},
        headers={"x-csrftoken": client.cookies.get("council_csrf")},
    )
    assert created.status_code == 201, created.text
    url = created.json()["url"]
    assert url.startswith("http://testserver.local/invitations/")
    token = _token_of(url)
    await form_post(client, "/logout", {}, page="/")

    page = await client.get(f"/invitations/{token}")
    assert page.status_code == 200 and "wang" in page.text
    accepted = await client.post(
        f"/invitations/{token}",
        data={
            "password": "my new secret",
            "password_again": "my new secret",
            "_csrf_token": csrf_from(page.text),
        },
    )
    assert accepted.status_code == 303
    assert (await client.get("/api/v1/me")).json()["username"] == "wang"

    reused = await client.get(f"/invitations/{token}")
    assert reused.status_code == 410
    assert (await login(client, "wang", "my new secret")).status_code == 303


async def test_expired_invitation_is_gone_and_changes_nothing(client: Any, settings: Any) -> None:
    await _staff(client, settings)
    created = await client.post(
        "/api/v1/users",
        json={"username": "li", "display_name": "李娜"},
        headers={"x-csrftoken": client.cookies.get("council_csrf")},
    )
    token = _token_of(created.json()["url"])
    await Invitation.update({Invitation.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
        Invitation.id > 0
    )
    before = await AuditEntry.count()
    page = await client.get("/login")
    response = await client.post(
        f"/invitations/{token}",
        data={
            "password": "whatever123",
            "password_again": "whatever123",
            "_csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 410
    assert "expired" in response.text or "过期" in response.text
    assert await AuditEntry.count() == before
    user = await User.objects().where(User.username == "li").first()
    assert user.password_hash == ""


async def test_mismatched_passwords_are_refused(client: Any, settings: Any) -> None:
    await _staff(client, settings)
    created = await client.post(
        "/api/v1/users",
        json={"username": "zhou", "display_name": "周"},
        headers={"x-csrftoken": client.cookies.get("council_csrf")},
    )
    token = _token_of(created.json()["url"])
    page = await client.get(f"/invitations/{token}")
    response = await client.post(
        f"/invitations/{token}",
        data={
            "password": "first password",
            "password_again": "other password",
            "_csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 400
    assert (await Invitation.objects().first()).used_at is None


async def test_staff_reset_stops_old_password_and_sends_link(client: Any, settings: Any) -> None:
    c = await _staff(client, settings)
    uid = await make_user(settings, "old", [(Role.resident, c.community["id"])])
    response = await client.post(
        f"/api/v1/users/{uid}/password-reset", headers={"x-csrftoken": client.cookies.get("council_csrf")}
    )
    assert response.status_code == 201 and response.json()["purpose"] == "reset"
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=client.app, base_url="http://testserver.local") as other:
        other.follow_redirects = False
        assert (await login(other, "old", PASSWORD)).status_code == 401


async def test_api_validation_names_the_field_and_changes_nothing(client: Any, settings: Any) -> None:
    await _staff(client, settings)
    before = await AuditEntry.count()
    headers = {"x-csrftoken": client.cookies.get("council_csrf")}
    cases = [
        {"username": "ok", "display_name": "x", "surprise": 1},
        {"username": "has space", "display_name": "x"},
        {"username": "ok", "display_name": "x" * 101},
        {"username": 12, "display_name": "x"},
        {"display_name": "x"},
    ]
    for body in cases:
        response = await client.post("/api/v1/users", json=body, headers=headers)
        assert response.status_code == 400, body
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert problem["errors"] or problem["detail"]
    assert await AuditEntry.count() == before
    assert await User.count() == 1


async def test_duplicate_username_is_a_conflict(client: Any, settings: Any) -> None:
    await _staff(client, settings)
    headers = {"x-csrftoken": client.cookies.get("council_csrf")}
    response = await client.post(
        "/api/v1/users", json={"username": "staff", "display_name": "x"}, headers=headers
    )
    assert response.status_code == 409


async def test_api_post_with_session_but_without_csrf_header_is_refused(client: Any, settings: Any) -> None:
    await _staff(client, settings)
    response = await client.post("/api/v1/users", json={"username": "x1", "display_name": "x"})
    assert response.status_code == 403
    assert await User.count() == 1


async def test_roles_guard_every_route(client: Any, settings: Any) -> None:
    c = await make_community()
    await make_user(settings, "res", [(Role.resident, c.community["id"])])
    await login(client, "res")
    for path in (
        "/roster",
        "/users",
        "/audit",
        "/api/v1/users",
        "/api/v1/nodes",
        f"/api/v1/residents?scope={c.community['id']}",
        "/api/v1/audit",
    ):
        response = await client.get(path)
        assert response.status_code == 403, path
    anonymous_paths = ("/account", "/api/v1/me", "/api/v1/tokens")
    await form_post(client, "/logout", {}, page="/")
    for path in anonymous_paths:
        response = await client.get(path)
        assert response.status_code == 401, path


async def test_role_scope_and_admin_only_roles(client: Any, settings: Any) -> None:
    c = await make_community()
    await make_user(settings, "gridstaff", [(Role.staff, c.grids[0]["id"])])
    target = await make_user(settings, "target", [])
    await login(client, "gridstaff")
    headers = {"x-csrftoken": client.cookies.get("council_csrf")}
    inside = await client.post(
        f"/api/v1/users/{target}/roles",
        json={"role": "council_member", "node_id": c.buildings[0]["id"]},
        headers=headers,
    )
    assert inside.status_code == 201
    outside = await client.post(
        f"/api/v1/users/{target}/roles",
        json={"role": "council_member", "node_id": c.buildings[1]["id"]},
        headers=headers,
    )
    assert outside.status_code == 403
    staff_role = await client.post(
        f"/api/v1/users/{target}/roles",
        json={"role": "staff", "node_id": c.buildings[0]["id"]},
        headers=headers,
    )
    assert staff_role.status_code == 403
    bad_role = await client.post(
        f"/api/v1/users/{target}/roles",
        json={"role": "emperor", "node_id": c.buildings[0]["id"]},
        headers=headers,
    )
    assert bad_role.status_code == 400
    assert await RoleAssignment.count().where(RoleAssignment.user == target) == 1
    again = await client.post(
        f"/api/v1/users/{target}/roles",
        json={"role": "council_member", "node_id": c.buildings[0]["id"]},
        headers=headers,
    )
    assert again.status_code == 409
    removed = await client.delete(
        f"/api/v1/users/{target}/roles/council_member/{c.buildings[0]['id']}", headers=headers
    )
    assert removed.status_code == 204
    assert await RoleAssignment.count().where(RoleAssignment.user == target) == 0


async def test_personal_token_is_stored_hashed_and_works_without_csrf(client: Any, settings: Any) -> None:
    c = await _staff(client, settings)
    created = await client.post(
        "/api/v1/tokens", json={"name": "script"}, headers={"x-csrftoken": client.cookies.get("council_csrf")}
    )
    assert created.status_code == 201
    token = created.json()["token"]
    stored = await ApiToken.objects().first()
    assert token not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    client.cookies.clear()
    bearer = {"authorization": f"Bearer {token}"}
    me = await client.get("/api/v1/me", headers=bearer)
    assert me.status_code == 200 and me.json()["username"] == "staff"
    made = await client.post(
        "/api/v1/nodes",
        json={"name": "3栋", "kind": "building", "parent_id": c.grids[0]["id"]},
        headers=bearer,
    )
    assert made.status_code == 201
    nested = await client.post("/api/v1/tokens", json={"name": "x"}, headers=bearer)
    assert nested.status_code == 403
    revoke = await client.delete(f"/api/v1/tokens/{stored.id}", headers=bearer)
    assert revoke.status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401
    assert (
        await client.get("/api/v1/me", headers={"authorization": "Bearer cncl_forged"})
    ).status_code == 401


async def test_users_page_lists_and_paginates(client: Any, settings: Any) -> None:
    await _staff(client, settings)
    for i in range(12):
        await make_user(settings, f"user{i:02d}", [])
    page = await client.get("/users?limit=5")
    assert page.status_code == 200
    assert "user00" in page.text and "user05" not in page.text
    assert "offset=5" in page.text
    bad = await client.get("/users?limit=100000")
    assert bad.status_code == 400
