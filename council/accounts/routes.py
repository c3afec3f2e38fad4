"""JSON API for accounts: /api/v1/me, /api/v1/users, /api/v1/tokens."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter

from council.accounts import roles, service, tokens
from council.accounts.guards import requires_login, requires_role
from council.accounts.schemas import (
    GrantOut,
    InvitationOut,
    MeOut,
    Page,
    PasswordChangeIn,
    RoleIn,
    TokenCreatedOut,
    TokenCreateIn,
    TokenOut,
    UserCreateIn,
    UserOut,
    UserUpdateIn,
)
from council.accounts.tables import Invitation, Role
from council.web import Paging, require_principal, settings_of


def _user_out(row: dict[str, Any]) -> UserOut:
    return UserOut(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        email=row["email"],
        active=row["active"],
        resident_id=row["resident"],
        has_password=row["has_password"],
        locked=row["locked"],
        roles=[GrantOut(Role(g["role"]), g["node"], g["node.name"]) for g in row["roles"]],
        last_login_at=row["last_login_at"],
    )


async def _invitation_out(request: Request[Any, Any, Any], user_id: int, token: str) -> InvitationOut:
    settings = settings_of(request)
    invitation = (
        await Invitation.objects()
        .where(Invitation.user == user_id)
        .order_by(Invitation.id, ascending=False)
        .first()
    )
    assert invitation is not None
    return InvitationOut(
        user_id=user_id,
        purpose=invitation.purpose,
        url=service.invitation_url(settings, token),
        expires_at=invitation.expires_at,
    )


class MeApi(Controller):
    path = "/api/v1"
    guards = [requires_login]
    tags = ["accounts"]

    @get("/me")
    async def me(self, request: Request[Any, Any, Any]) -> MeOut:
        """The logged-in user and the roles they hold."""
        p = require_principal(request)
        return MeOut(
            id=p.id,
            username=p.username,
            display_name=p.display_name,
            locale=p.locale,
            roles=[GrantOut(g.role, g.node_id, g.node_name) for g in p.grants],
        )

    @post("/me/password", status_code=204)
    async def change_password(self, request: Request[Any, Any, Any], data: PasswordChangeIn) -> None:
        """Change one's own password (ends one's other sessions)."""
        await service.change_password(
            settings_of(request), require_principal(request), data.current_password, data.new_password
        )

    @get("/tokens")
    async def tokens(self, request: Request[Any, Any, Any]) -> list[TokenOut]:
        """One's personal API tokens (never their secret)."""
        rows = await tokens.list_tokens(require_principal(request))
        return [
            TokenOut(
                id=r["id"],
                name=r["name"],
                prefix=r["prefix"],
                created_at=r["created_at"],
                revoked=r["revoked_at"] is not None,
            )
            for r in rows
        ]

    @post("/tokens", status_code=201)
    async def create_token(self, request: Request[Any, Any, Any], data: TokenCreateIn) -> TokenCreatedOut:
        """Create a personal token; its secret is shown this once."""
        token_id, token = await tokens.create_token(require_principal(request), data.name)
        return TokenCreatedOut(id=token_id, name=data.name, token=token)

    @delete("/tokens/{token_id:int}", status_code=204)
    async def revoke_token(self, request: Request[Any, Any, Any], token_id: int) -> None:
        """Revoke one of one's tokens."""
        await tokens.revoke_token(require_principal(request), token_id)


class UsersApi(Controller):
    path = "/api/v1/users"
    guards = [requires_role(Role.staff)]
    tags = ["accounts"]

    @get("/")
    async def list_users(
        self,
        request: Request[Any, Any, Any],
        q: Annotated[str, Parameter(max_length=64)] = "",
        offset: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    ) -> Page:
        """Accounts, by username, with their roles."""
        page = Paging.of(offset, limit)
        rows, total = await service.list_users(
            require_principal(request), query=q, offset=page.offset, limit=page.limit
        )
        return Page(items=[_user_out(r) for r in rows], total=total, offset=page.offset, limit=page.limit)

    @post("/", status_code=201)
    async def create_user(self, request: Request[Any, Any, Any], data: UserCreateIn) -> InvitationOut:
        """Create an account; answers with the invitation link to set its password."""
        user, token = await service.create_user(
            settings_of(request),
            require_principal(request),
            username=data.username,
            display_name=data.display_name,
            email=data.email,
            resident_id=data.resident_id,
        )
        return await _invitation_out(request, user.id, token)

    @get("/{user_id:int}")
    async def get_user(self, request: Request[Any, Any, Any], user_id: int) -> UserOut:
        return _user_out(await service.get_user(require_principal(request), user_id))

    @patch("/{user_id:int}")
    async def update_user(self, request: Request[Any, Any, Any], user_id: int, data: UserUpdateIn) -> UserOut:
        principal = require_principal(request)
        await service.update_user(principal, user_id, data.display_name, data.email)
        return _user_out(await service.get_user(principal, user_id))

    @post("/{user_id:int}/roles", status_code=201)
    async def assign_role(self, request: Request[Any, Any, Any], user_id: int, data: RoleIn) -> UserOut:
        """Give a role over a scope (only an admin gives staff or admin)."""
        principal = require_principal(request)
        await roles.assign_role(principal, user_id, data.role, data.node_id)
        return _user_out(await service.get_user(principal, user_id))

    @delete("/{user_id:int}/roles/{role:str}/{node_id:int}", status_code=204)
    async def revoke_role(
        self, request: Request[Any, Any, Any], user_id: int, role: Role, node_id: int
    ) -> None:
        await roles.revoke_role(require_principal(request), user_id, role, node_id)

    @post("/{user_id:int}/password-reset", status_code=201)
    async def reset_password(self, request: Request[Any, Any, Any], user_id: int) -> InvitationOut:
        """Stop the current password at once and make a link to set a new one."""
        token = await service.reset_password(settings_of(request), require_principal(request), user_id)
        return await _invitation_out(request, user_id, token)

    @post("/{user_id:int}/invitation", status_code=201)
    async def invite(self, request: Request[Any, Any, Any], user_id: int) -> InvitationOut:
        """A fresh invitation for an account that has no password yet."""
        token = await service.invite_again(settings_of(request), require_principal(request), user_id)
        return await _invitation_out(request, user_id, token)

    @post("/{user_id:int}/deactivate", status_code=200)
    async def deactivate(self, request: Request[Any, Any, Any], user_id: int) -> UserOut:
        principal = require_principal(request)
        await service.set_active(principal, user_id, False)
        return _user_out(await service.get_user(principal, user_id))

    @post("/{user_id:int}/activate", status_code=200)
    async def activate(self, request: Request[Any, Any, Any], user_id: int) -> UserOut:
        principal = require_principal(request)
        await service.set_active(principal, user_id, True)
        return _user_out(await service.get_user(principal, user_id))


HANDLERS = [MeApi, UsersApi]
