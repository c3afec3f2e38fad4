"""Who is logged in: password checks with lock-out, and the principal behind a session."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from council.accounts import passwords
from council.accounts.principal import Grant, Principal
from council.accounts.tables import Role, RoleAssignment, User
from council.audit import service as audit
from council.audit.service import Actor
from council.db import write_transaction
from council.errors import TooMany, Unauthorized
from council.i18n import N_
from council.settings import Settings


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
    return await principal_for(user)


async def principal_for(user: User, via_token: bool = False) -> Principal:
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
    return await principal_for(user)


@cache
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return passwords.hasher(time_cost, memory_kib, parallelism).hash(secrets.token_hex(8))


async def user_epoch(user_id: int) -> str:
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    return password_epoch(row["password_hash"]) if row else ""
