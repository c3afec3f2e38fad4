"""Personal API tokens for scripts and command-line tools; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from council.accounts.principal import Grant, Principal
from council.accounts.tables import ApiToken, Role
from council.audit import service as audit
from council.db import write_transaction
from council.errors import Forbidden, NotFound
from council.i18n import N_

TOKEN_PREFIX = "cncl_"


def _now() -> datetime:
    return datetime.now(UTC)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


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
    """The token's holder with her roles, in one query (every API request asks this)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    rows = await ApiToken.raw(
        "SELECT u.id, u.username, u.display_name, u.locale, u.resident, ra.role, ra.node, n.path, n.name "
        'FROM api_token t JOIN account u ON u.id = t."user" '
        'LEFT JOIN role_assignment ra ON ra."user" = u.id LEFT JOIN node n ON n.id = ra.node '
        "WHERE t.token_hash = {} AND t.revoked_at IS NULL AND u.active ORDER BY ra.id",
        _sha256(token),
    )
    if not rows:
        return None
    user = rows[0]
    return Principal(
        id=user["id"],
        username=user["username"],
        display_name=user["display_name"],
        locale=user["locale"],
        resident_id=user["resident"],
        grants=tuple(Grant(Role(r["role"]), r["node"], r["path"], r["name"]) for r in rows if r["role"]),
        via_token=True,
    )
