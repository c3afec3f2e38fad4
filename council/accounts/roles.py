"""Roles held over a scope: who may give or take which."""

from __future__ import annotations

from datetime import UTC, datetime

from council.accounts.principal import Principal
from council.accounts.service import user_row
from council.accounts.tables import ROLE_TERMS, Role, RoleAssignment
from council.audit import service as audit
from council.community.tables import Node
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid, NotFound
from council.i18n import N_


def _now() -> datetime:
    return datetime.now(UTC)


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
    user = await user_row(user_id)
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
    user = await user_row(user_id)
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
