"""HTML pages: log in and out, invitations, one's own account, and user management."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from council.accounts import login, roles, service, tokens
from council.accounts.guards import requires_login, requires_role
from council.accounts.ratelimit import check_login_rate
from council.accounts.schemas import (
    PasswordChangeIn,
    PasswordSetIn,
    RoleIn,
    TokenCreateIn,
    UserCreateIn,
    UserUpdateIn,
)
from council.accounts.tables import Role
from council.community import residents
from council.community import service as roster
from council.community.tables import NodeKind
from council.errors import DomainError, Invalid
from council.i18n import N_
from council.web import (
    Paging,
    convert,
    drop_empty,
    flash,
    form_data,
    redirect,
    require_principal,
    safe_next,
    settings_of,
    start_session,
)


class SessionPages(Controller):
    include_in_schema = False

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], next: str = "/") -> Template:
        return Template("accounts/login.html", context={"next": safe_next(next), "error": None})

    @post("/login")
    async def login(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await form_data(request)
        target = safe_next(str(data.get("next", "/")))
        username = str(data.get("username", ""))[:64]
        try:
            await check_login_rate(request)
            principal = await login.authenticate(
                settings_of(request), username, str(data.get("password", ""))[:128]
            )
        except DomainError as exc:
            return Template(
                "accounts/login.html",
                context={"next": target, "error": exc.detail(), "username": username},
                status_code=exc.status_code,
            )
        start_session(request, {"uid": principal.id, "ep": await login.user_epoch(principal.id)})
        return redirect(target)

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return redirect("/")

    @get("/invitations/{token:str}")
    async def invitation_form(self, token: str) -> Template:
        invitation, user = await service.find_invitation(token)
        return Template(
            "accounts/invitation.html",
            context={"user": user, "purpose": invitation.purpose, "token": token},
        )

    @post("/invitations/{token:str}")
    async def accept_invitation(self, request: Request[Any, Any, Any], token: str) -> Redirect:
        data = convert(await form_data(request), PasswordSetIn, from_form=True)
        if data.password != data.password_again:
            raise Invalid(N_("The two passwords are not the same."))
        principal = await service.accept_invitation(settings_of(request), token, data.password)
        start_session(request, {"uid": principal.id, "ep": await login.user_epoch(principal.id)})
        return redirect("/account?welcome=1")


class AccountPages(Controller):
    path = "/account"
    guards = [requires_login]
    include_in_schema = False

    @get("/")
    async def show(self, request: Request[Any, Any, Any], welcome: int = 0) -> Template:
        principal = require_principal(request)
        my_tokens = await tokens.list_tokens(principal)
        new_token = request.session.pop("new_token", None) if request.session else None
        return Template(
            "accounts/account.html",
            context={
                "principal": principal,
                "tokens": my_tokens,
                "new_token": new_token,
                "welcome": bool(welcome),
            },
        )

    @post("/password")
    async def change_password(self, request: Request[Any, Any, Any]) -> Redirect:
        principal = require_principal(request)
        data = convert(await form_data(request), PasswordChangeIn, from_form=True)
        if data.new_password_again is not None and data.new_password_again != data.new_password:
            raise Invalid(N_("The two passwords are not the same."))
        epoch = await service.change_password(
            settings_of(request), principal, data.current_password, data.new_password
        )
        request.set_session({"uid": principal.id, "ep": epoch})
        return redirect("/account?changed=1")

    @post("/tokens")
    async def create_token(self, request: Request[Any, Any, Any]) -> Redirect:
        principal = require_principal(request)
        data = convert(await form_data(request), TokenCreateIn, from_form=True)
        _, token = await tokens.create_token(principal, data.name)
        request.session["new_token"] = token
        return redirect("/account")

    @post("/tokens/{token_id:int}/revoke")
    async def revoke_token(self, request: Request[Any, Any, Any], token_id: int) -> Redirect:
        await tokens.revoke_token(require_principal(request), token_id)
        flash(request, N_("Saved."))
        return redirect("/account")


class UserPages(Controller):
    path = "/users"
    guards = [requires_role(Role.staff)]
    include_in_schema = False

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], q: str = "", offset: int = 0, limit: int = 50
    ) -> Template:
        page = Paging.of(offset, limit)
        users, total = await service.list_users(
            require_principal(request), query=q[:64], offset=page.offset, limit=page.limit
        )
        return Template(
            "accounts/users.html",
            context={"users": users, "total": total, "q": q, "page": page},
        )

    @get("/new")
    async def new(self, resident: int | None = None) -> Template:
        resident_row = await residents.get_resident(resident) if resident else None
        return Template("accounts/user_new.html", context={"resident": resident_row})

    @post("/")
    async def create(self, request: Request[Any, Any, Any]) -> Template:
        data = drop_empty(await form_data(request), "resident_id", "email")
        body = convert(data, UserCreateIn, from_form=True)
        settings = settings_of(request)
        user, token = await service.create_user(
            settings,
            require_principal(request),
            username=body.username,
            display_name=body.display_name,
            email=body.email,
            resident_id=body.resident_id,
        )
        return Template(
            "accounts/invitation_link.html",
            context={
                "user": user,
                "url": service.invitation_url(settings, token),
                "hours": settings.invitation_hours,
            },
            status_code=201,
        )

    @get("/{user_id:int}")
    async def show(self, request: Request[Any, Any, Any], user_id: int) -> Template:
        principal = require_principal(request)
        user = await service.get_user(principal, user_id)
        resident = await residents.get_resident(user["resident"]) if user["resident"] else None
        communities = await roster.roots()
        return Template(
            "accounts/user.html",
            context={
                "user": user,
                "resident": resident,
                "roles": list(Role),
                "grants": principal.scopes(Role.staff),
                "communities": communities,
                "places": await roster.place_choices(
                    kinds=(NodeKind.community, NodeKind.grid, NodeKind.building, NodeKind.unit)
                ),
            },
        )

    @post("/{user_id:int}")
    async def update(self, request: Request[Any, Any, Any], user_id: int) -> Redirect:
        body = convert(await form_data(request), UserUpdateIn, from_form=True)
        await service.update_user(require_principal(request), user_id, body.display_name, body.email)
        flash(request, N_("Saved."))
        return redirect(f"/users/{user_id}")

    @post("/{user_id:int}/roles")
    async def assign_role(self, request: Request[Any, Any, Any], user_id: int) -> Redirect:
        body = convert(await form_data(request), RoleIn, from_form=True)
        await roles.assign_role(require_principal(request), user_id, body.role, body.node_id)
        flash(request, N_("Saved."))
        return redirect(f"/users/{user_id}")

    @post("/{user_id:int}/roles/revoke")
    async def revoke_role(self, request: Request[Any, Any, Any], user_id: int) -> Redirect:
        body = convert(await form_data(request), RoleIn, from_form=True)
        await roles.revoke_role(require_principal(request), user_id, body.role, body.node_id)
        flash(request, N_("Saved."))
        return redirect(f"/users/{user_id}")

    @post("/{user_id:int}/reset-password")
    async def reset_password(self, request: Request[Any, Any, Any], user_id: int) -> Template:
        settings = settings_of(request)
        token = await service.reset_password(settings, require_principal(request), user_id)
        user = await service.get_user(require_principal(request), user_id)
        return Template(
            "accounts/invitation_link.html",
            context={
                "user": user,
                "url": service.invitation_url(settings, token),
                "hours": settings.invitation_hours,
                "reset": True,
            },
        )

    @post("/{user_id:int}/invite")
    async def invite(self, request: Request[Any, Any, Any], user_id: int) -> Template:
        settings = settings_of(request)
        token = await service.invite_again(settings, require_principal(request), user_id)
        user = await service.get_user(require_principal(request), user_id)
        return Template(
            "accounts/invitation_link.html",
            context={
                "user": user,
                "url": service.invitation_url(settings, token),
                "hours": settings.invitation_hours,
            },
        )

    @post("/{user_id:int}/active")
    async def set_active(self, request: Request[Any, Any, Any], user_id: int) -> Redirect:
        data = await form_data(request, "active")
        await service.set_active(require_principal(request), user_id, bool(data["active"]))
        flash(request, N_("Saved."))
        return redirect(f"/users/{user_id}")


HANDLERS = [SessionPages, AccountPages, UserPages]
