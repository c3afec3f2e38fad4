"""Accounts: login, invitations, passwords, roles and personal tokens. No HTTP here."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from council.accounts import passwords
from council.accounts.principal import Grant, Principal
from council.accounts.tables import ROLE_TERMS, ApiToken, Invitation, Role, RoleAssignment, User
from council.audit import service as audit
from council.audit.service import Actor
from council.community.tables import Node, Resident
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Gone, Invalid, NotFound, TooMany, Unauthorized
from council.i18n import N_
from council.settings import Settings

TOKEN_PREFIX = "cncl_"


def _now() -> datetime:
    return datetime.now(UTC)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def password_epoch(password_hash: str) -> str:
    """Kept in the session: changing the password ends every other session."""
    return _sha256(password_hash)[:16]


async def load_principal(user_id: int, epoch: str | None = None) -> Principal | None:
    user = await User.objects().where(User.id == user_id).first()
    if user is None or not user.active:
        return None
    if epoch is not None and epoch != password_epoch(user.password_hash):
        return None
    return await _principal(user)


async def _principal(user: User, via_token: bool = False) -> Principal:
    rows = await RoleAssignment.select(
        RoleAssignment.role,
        RoleAssignment.node,
        RoleAssignment.node.path,
        RoleAssignment.node.name,
    ).where(RoleAssignment.user == user.id)
    grants = tuple(Grant(Role(r["role"]), r["node"], r["node.path"], r["node.name"]) for r in rows)
    return Principal(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        locale=user.locale,
        resident_id=user.resident,
        grants=grants,
        via_token=via_token,
    )


# --- login -------------------------------------------------------------------------


async def authenticate(settings: Settings, username: str, password: str) -> Principal:
    """Check a password; count failures and lock the account after too many."""
    user = await User.objects().where(User.username == username.strip()).first()
    if user is None or not user.active:
        # Same work as a real check, so timing does not reveal which usernames exist.
        await asyncio.to_thread(
            passwords.verify_password,
            settings,
            _dummy_hash(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism),
            password,
        )
        raise Unauthorized(N_("Wrong username or password."))
    now = _now()
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise TooMany(
            N_("Too many failed attempts. Try again in {minutes} minutes or ask the staff."),
            minutes=minutes,
        )
    if not await asyncio.to_thread(passwords.verify_password, settings, user.password_hash, password):
        failures = user.failed_logins + 1
        locked_until = None
        if failures >= settings.login_max_failures:
            locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
        async with write_transaction():
            await User.update({User.failed_logins: failures, User.locked_until: locked_until}).where(
                User.id == user.id
            )
            await audit.record(
                Actor(user.id, user.username),
                "locked_out" if locked_until else "login_failed",
                "user",
                user.id,
                {"failures": failures},
            )
        raise Unauthorized(N_("Wrong username or password."))
    changes: dict[Any, Any] = {
        User.failed_logins: 0,
        User.locked_until: None,
        User.last_login_at: now,
    }
    rehashed = passwords.needs_rehash(settings, user.password_hash)
    if rehashed:
        changes[User.password_hash] = await asyncio.to_thread(passwords.hash_password, settings, password)
    async with write_transaction():
        await User.update(changes).where(User.id == user.id)
        await audit.record(Actor(user.id, user.username), "login", "user", user.id, {"rehashed": rehashed})
    if rehashed:
        user.password_hash = changes[User.password_hash]
    return await _principal(user)


@cache
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return passwords.hasher(time_cost, memory_kib, parallelism).hash(secrets.token_hex(8))


async def user_epoch(user_id: int) -> str:
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    return password_epoch(row["password_hash"]) if row else ""


# --- users ---------------------------------------------------------------------------


async def _user(user_id: int) -> User:
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
    user = await _user(user_id)
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
    user = await _user(user_id)
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
    user = await _user(user_id)
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
    user = await _user(user_id)
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
    user = await _user(invitation.user)
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
    return await _principal(user)


def _check_password_rules(password: str) -> None:
    if len(password) < passwords.MIN_PASSWORD_LENGTH:
        raise Invalid(N_("The password must have at least {n} characters."), n=passwords.MIN_PASSWORD_LENGTH)
    if len(password) > passwords.MAX_PASSWORD_LENGTH:
        raise Invalid(N_("The password may have at most {n} characters."), n=passwords.MAX_PASSWORD_LENGTH)


async def change_password(settings: Settings, principal: Principal, current: str, new: str) -> str:
    """Returns the new session epoch."""
    user = await _user(principal.id)
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


# --- roles ---------------------------------------------------------------------------


async def _node_path(node_id: int) -> tuple[str, str]:
    row = await Node.select(Node.path, Node.name).where(Node.id == node_id).first()
    if row is None:
        raise Invalid(N_("No place with id {id}."), id=node_id)
    return row["path"], row["name"]


def _check_can_grant(principal: Principal, role: Role, path: str) -> None:
    if role in (Role.admin, Role.staff):
        if not principal.can(path, Role.admin):
            raise Forbidden(N_("Only an admin can give or take the role {role}."), role=ROLE_TERMS[role])
    elif not principal.can(path, Role.staff):
        raise Forbidden(N_("This place is outside your scope."))


async def assign_role(principal: Principal, user_id: int, role: Role, node_id: int) -> None:
    user = await _user(user_id)
    path, name = await _node_path(node_id)
    _check_can_grant(principal, role, path)
    if await RoleAssignment.exists().where(
        (RoleAssignment.user == user.id)
        & (RoleAssignment.role == role.value)
        & (RoleAssignment.node == node_id)
    ):
        raise Conflict(N_("This user already has this role here."))
    async with write_transaction():
        await RoleAssignment(user=user.id, role=role.value, node=node_id, created_at=_now()).save()
        await audit.record(
            principal.actor,
            "assign_role",
            "user",
            user.id,
            {"role": role.value, "node_id": node_id, "node_name": name},
        )


async def revoke_role(principal: Principal, user_id: int, role: Role, node_id: int) -> None:
    user = await _user(user_id)
    path, name = await _node_path(node_id)
    _check_can_grant(principal, role, path)
    if user.id == principal.id and role is Role.admin:
        raise Conflict(N_("You cannot remove your own admin role."))
    async with write_transaction():
        deleted = (
            await RoleAssignment.delete()
            .where(
                (RoleAssignment.user == user.id)
                & (RoleAssignment.role == role.value)
                & (RoleAssignment.node == node_id)
            )
            .returning(RoleAssignment.id)
        )
        if not deleted:
            raise NotFound(N_("This user does not have this role here."))
        await audit.record(
            principal.actor,
            "revoke_role",
            "user",
            user.id,
            {"role": role.value, "node_id": node_id, "node_name": name},
        )


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
    user = await _user(user_id)
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


# --- personal API tokens ---------------------------------------------------------------


async def create_token(principal: Principal, name: str) -> tuple[int, str]:
    if principal.via_token:
        raise Forbidden(N_("A token cannot create other tokens; log in with your password."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with write_transaction():
        row = ApiToken(
            user=principal.id,
            name=name.strip(),
            prefix=token[: len(TOKEN_PREFIX) + 6],
            token_hash=_sha256(token),
            created_at=_now(),
        )
        await row.save()
        await audit.record(principal.actor, "create_token", "api_token", row.id, {"name": name})
    return row.id, token


async def list_tokens(principal: Principal) -> list[dict[str, Any]]:
    return (
        await ApiToken.select(
            ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.created_at, ApiToken.revoked_at
        )
        .where(ApiToken.user == principal.id)
        .order_by(ApiToken.id, ascending=False)
    )


async def revoke_token(principal: Principal, token_id: int) -> None:
    async with write_transaction():
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: _now()})
            .where(
                (ApiToken.id == token_id) & (ApiToken.user == principal.id) & ApiToken.revoked_at.is_null()
            )
            .returning(ApiToken.id)
        )
        if not revoked:
            raise NotFound(N_("No active token with id {id}."), id=token_id)
        await audit.record(principal.actor, "revoke_token", "api_token", token_id)


async def principal_from_token(token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = (
        await ApiToken.objects()
        .where((ApiToken.token_hash == _sha256(token)) & ApiToken.revoked_at.is_null())
        .first()
    )
    if row is None:
        return None
    user = await User.objects().where(User.id == row.user).first()
    if user is None or not user.active:
        return None
    return await _principal(user, via_token=True)
