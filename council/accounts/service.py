"""Accounts managed by staff: users, invitations, password resets and changes. No HTTP here."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from council.accounts import passwords
from council.accounts.login import password_epoch, principal_for
from council.accounts.principal import Principal
from council.accounts.tables import Invitation, Role, RoleAssignment, User
from council.audit import service as audit
from council.audit.service import Actor
from council.community.tables import Resident
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from council.i18n import N_
from council.settings import Settings


def _now() -> datetime:
    return datetime.now(UTC)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# --- users ---------------------------------------------------------------------------


async def user_row(user_id: int) -> User:
    user = await User.objects().where(User.id == user_id).first()
    if user is None:
        raise NotFound(N_("No user with id {id}."), id=user_id)
    return user


def _require_staff(principal: Principal) -> None:
    if not principal.has_role(Role.staff, Role.admin):
        raise Forbidden(N_("Only community staff can manage accounts."))


async def _check_resident_scope(principal: Principal, resident_id: int) -> None:
    row = await Resident.select(Resident.household.path).where(Resident.id == resident_id).first()
    if row is None:
        raise Invalid(N_("No resident with id {id}."), id=resident_id)
    if not principal.can(row["household.path"], Role.staff):
        raise Forbidden(N_("This resident is outside your scope."))


async def create_user(
    settings: Settings,
    principal: Principal,
    *,
    username: str,
    display_name: str,
    email: str = "",
    resident_id: int | None = None,
) -> tuple[User, str]:
    """Create an account without a password; returns it with its invitation link."""
    _require_staff(principal)
    if resident_id is not None:
        await _check_resident_scope(principal, resident_id)
        if await User.exists().where(User.resident == resident_id):
            raise Conflict(N_("This resident already has an account."))
    if await User.exists().where(User.username == username):
        raise Conflict(N_("The username {username} is taken."), username=username)
    async with write_transaction():
        user = User(
            username=username,
            display_name=display_name.strip(),
            email=email,
            resident=resident_id,
            created_at=_now(),
        )
        await user.save()
        await audit.record(
            principal.actor,
            "create_user",
            "user",
            user.id,
            {"username": username, "display_name": display_name, "resident_id": resident_id},
        )
        token = await _new_invitation(settings, principal, user, "invite")
    return user, token


async def create_user_with_password(
    settings: Settings,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    password: str,
    grants: list[tuple[Role, int]],
    email: str = "",
    resident_id: int | None = None,
) -> User:
    """For operators (CLI, demo): an account that can log in at once, with its roles."""
    _check_password_rules(password)
    if await User.exists().where(User.username == username):
        raise Conflict(N_("The username {username} is taken."), username=username)
    now = _now()
    password_hash = await asyncio.to_thread(passwords.hash_password, settings, password)
    async with write_transaction():
        user = User(
            username=username,
            display_name=display_name,
            email=email,
            resident=resident_id,
            password_hash=password_hash,
            created_at=now,
        )
        await user.save()
        for role, node_id in grants:
            await RoleAssignment(user=user.id, role=role.value, node=node_id, created_at=now).save()
        await audit.record(
            actor,
            "create_user",
            "user",
            user.id,
            {
                "username": username,
                "display_name": display_name,
                "resident_id": resident_id,
                "roles": [[role.value, node_id] for role, node_id in grants],
            },
        )
    return user


async def update_user(principal: Principal, user_id: int, display_name: str, email: str) -> None:
    _require_staff(principal)
    user = await user_row(user_id)
    async with write_transaction():
        await User.update({User.display_name: display_name.strip(), User.email: email}).where(
            User.id == user.id
        )
        await audit.record(
            principal.actor,
            "update_user",
            "user",
            user.id,
            {"display_name": display_name, "email": email},
        )


async def set_active(principal: Principal, user_id: int, active: bool) -> None:
    _require_staff(principal)
    user = await user_row(user_id)
    if user.id == principal.id and not active:
        raise Conflict(N_("You cannot deactivate your own account."))
    if user.active == active:
        return
    async with write_transaction():
        await User.update({User.active: active}).where(User.id == user.id)
        await audit.record(principal.actor, "activate_user" if active else "deactivate_user", "user", user.id)


async def _new_invitation(settings: Settings, principal: Principal | None, user: User, purpose: str) -> str:
    token = secrets.token_urlsafe(32)
    now = _now()
    await Invitation(
        user=user.id,
        token_hash=_sha256(token),
        purpose=purpose,
        created_by=principal.id if principal else None,
        created_at=now,
        expires_at=now + timedelta(hours=settings.invitation_hours),
    ).save()
    return token


def invitation_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/invitations/{token}"


async def reset_password(settings: Settings, principal: Principal, user_id: int) -> str:
    """Staff reset: the old password stops working at once; the user sets a new one by link."""
    _require_staff(principal)
    user = await user_row(user_id)
    async with write_transaction():
        await User.update({User.password_hash: "", User.failed_logins: 0, User.locked_until: None}).where(
            User.id == user.id
        )
        await Invitation.update({Invitation.used_at: _now()}).where(
            (Invitation.user == user.id) & Invitation.used_at.is_null()
        )
        token = await _new_invitation(settings, principal, user, "reset")
        await audit.record(principal.actor, "reset_password", "user", user.id)
    return token


async def invite_again(settings: Settings, principal: Principal, user_id: int) -> str:
    _require_staff(principal)
    user = await user_row(user_id)
    if user.password_hash:
        raise Conflict(N_("This user has a password already; use a password reset instead."))
    async with write_transaction():
        await Invitation.update({Invitation.used_at: _now()}).where(
            (Invitation.user == user.id) & Invitation.used_at.is_null()
        )
        token = await _new_invitation(settings, principal, user, "invite")
        await audit.record(principal.actor, "invite_user", "user", user.id)
    return token


async def find_invitation(token: str) -> tuple[Invitation, User]:
    invitation = await Invitation.objects().where(Invitation.token_hash == _sha256(token)).first()
    if invitation is None:
        raise NotFound(N_("This invitation link is not valid."))
    if invitation.used_at is not None:
        raise Gone(N_("This invitation link has been used already."))
    if invitation.expires_at <= _now():
        raise Gone(N_("This invitation link has expired. Ask the staff for a new one."))
    user = await user_row(invitation.user)
    if not user.active:
        raise Gone(N_("This account is deactivated."))
    return invitation, user


async def accept_invitation(settings: Settings, token: str, password: str) -> Principal:
    _check_password_rules(password)
    invitation, user = await find_invitation(token)
    new_hash = await asyncio.to_thread(passwords.hash_password, settings, password)
    async with write_transaction():
        updated = (
            await Invitation.update({Invitation.used_at: _now()})
            .where((Invitation.id == invitation.id) & Invitation.used_at.is_null())
            .returning(Invitation.id)
        )
        if not updated:
            raise Gone(N_("This invitation link has been used already."))
        await User.update(
            {User.password_hash: new_hash, User.failed_logins: 0, User.locked_until: None}
        ).where(User.id == user.id)
        await audit.record(
            Actor(user.id, user.username),
            "set_password",
            "user",
            user.id,
            {"purpose": invitation.purpose},
        )
    user.password_hash = new_hash
    return await principal_for(user)


def _check_password_rules(password: str) -> None:
    if len(password) < passwords.MIN_PASSWORD_LENGTH:
        raise Invalid(N_("The password must have at least {n} characters."), n=passwords.MIN_PASSWORD_LENGTH)
    if len(password) > passwords.MAX_PASSWORD_LENGTH:
        raise Invalid(N_("The password may have at most {n} characters."), n=passwords.MAX_PASSWORD_LENGTH)


async def change_password(settings: Settings, principal: Principal, current: str, new: str) -> str:
    """Returns the new session epoch."""
    user = await user_row(principal.id)
    if not await asyncio.to_thread(passwords.verify_password, settings, user.password_hash, current):
        raise Invalid(N_("The current password is wrong."))
    _check_password_rules(new)
    new_hash = await asyncio.to_thread(passwords.hash_password, settings, new)
    async with write_transaction():
        await User.update({User.password_hash: new_hash}).where(User.id == user.id)
        await audit.record(principal.actor, "change_password", "user", user.id)
    return password_epoch(new_hash)


async def set_locale(principal: Principal, locale: str) -> None:
    async with write_transaction():
        await User.update({User.locale: locale}).where(User.id == principal.id)
        await audit.record(principal.actor, "set_locale", "user", principal.id, {"locale": locale})


async def list_users(
    principal: Principal, *, query: str = "", offset: int = 0, limit: int = 50
) -> tuple[list[dict[str, Any]], int]:
    _require_staff(principal)
    select = User.select().order_by(User.username)
    count = User.count()
    if query:
        condition = User.username.ilike(f"%{query}%") | User.display_name.ilike(f"%{query}%")
        select = select.where(condition)
        count = count.where(condition)
    rows = await select.offset(offset).limit(limit)
    ids = [row["id"] for row in rows]
    grants: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for grant in await RoleAssignment.select(
            RoleAssignment.user, RoleAssignment.role, RoleAssignment.node, RoleAssignment.node.name
        ).where(RoleAssignment.user.is_in(ids)):
            grants[grant["user"]].append(grant)
    now = _now()
    for row in rows:
        row["roles"] = grants[row["id"]]
        row["has_password"] = bool(row.pop("password_hash"))
        row["locked"] = row["locked_until"] is not None and row["locked_until"] > now
    return rows, await count


async def get_user(principal: Principal, user_id: int) -> dict[str, Any]:
    if principal.id != user_id:
        _require_staff(principal)
    user = await user_row(user_id)
    rows, _ = await list_users_by_ids([user.id])
    return rows[0]


async def list_users_by_ids(ids: list[int]) -> tuple[list[dict[str, Any]], int]:
    rows = await User.select().where(User.id.is_in(ids))
    now = _now()
    for row in rows:
        row["roles"] = await RoleAssignment.select(
            RoleAssignment.user, RoleAssignment.role, RoleAssignment.node, RoleAssignment.node.name
        ).where(RoleAssignment.user == row["id"])
        row["has_password"] = bool(row.pop("password_hash"))
        row["locked"] = row["locked_until"] is not None and row["locked_until"] > now
    return rows, len(rows)
