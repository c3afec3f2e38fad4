"""The community roster: the territory tree and the residents on it. No HTTP here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from council.accounts.principal import Principal
from council.accounts.tables import Role
from council.audit import service as audit
from council.community.tables import CHILD_KIND, KIND_TERMS, Node, NodeKind, Resident
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid, NotFound
from council.i18n import N_

# Mainland mobile numbers, or a landline with area code.
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")

ROSTER_ROLES = (Role.staff,)


def _now() -> datetime:
    return datetime.now(UTC)


def check_phone(phone: str) -> str:
    phone = phone.strip().replace(" ", "")
    if phone and not PHONE_RE.match(phone):
        raise Invalid(N_("The phone number {phone} is not valid."), phone=phone)
    return phone


async def get_node(node_id: int) -> dict[str, Any]:
    row = await Node.select().where(Node.id == node_id).first()
    if row is None:
        raise NotFound(N_("No place with id {id}."), id=node_id)
    return row


async def ancestors(node: dict[str, Any]) -> list[dict[str, Any]]:
    ids = [int(part) for part in node["path"].strip("/").split("/") if part]
    rows = (
        await Node.select(Node.id, Node.name, Node.kind, Node.path).where(Node.id.is_in(ids)) if ids else []
    )
    by_id = {row["id"]: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


async def roots() -> list[dict[str, Any]]:
    return await Node.select().where(Node.parent.is_null()).order_by(Node.id)


async def kept_places(principal: Principal) -> list[dict[str, Any]]:
    """The places the principal keeps the roster of (staff or admin), each once: a place
    inside another of hers is left out."""
    paths = sorted({g.node_path for g in principal.scopes(Role.staff)}, key=len)
    tops = [p for k, p in enumerate(paths) if not any(p.startswith(q) for q in paths[:k])]
    if not tops:
        return []
    rows: list[dict[str, Any]] = await Node.select().where(Node.path.is_in(tops)).order_by(Node.path)
    return rows


async def children(node_id: int) -> list[dict[str, Any]]:
    rows = await Node.select().where(Node.parent == node_id).order_by(Node.name)
    if not rows:
        return rows
    ids = [row["id"] for row in rows]
    counts: dict[int, int] = {}
    for row in await Node.select(Node.parent).where(Node.parent.is_in(ids)):
        counts[row["parent"]] = counts.get(row["parent"], 0) + 1
    residents: dict[int, int] = {}
    if rows[0]["kind"] == NodeKind.household.value:
        for row in await Resident.select(Resident.household).where(
            Resident.household.is_in(ids) & (Resident.active == True)  # noqa: E712
        ):
            residents[row["household"]] = residents.get(row["household"], 0) + 1
    for row in rows:
        row["children"] = counts.get(row["id"], 0)
        row["residents"] = residents.get(row["id"], 0)
    # Natural order: "2栋" before "10栋".
    rows.sort(key=lambda r: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", r["name"])])
    return rows


def require_scope(principal: Principal, path: str) -> None:
    if not principal.can(path, *ROSTER_ROLES):
        raise Forbidden(N_("This place is outside your scope."))


async def add_node(
    principal: Principal, *, name: str, kind: NodeKind, parent_id: int | None
) -> dict[str, Any]:
    name = name.strip()
    if not name:
        raise Invalid(N_("A name is required."))
    if parent_id is None:
        if kind is not NodeKind.community:
            raise Invalid(N_("Only a community can stand at the top of the tree."))
        if not principal.has_role(Role.admin):
            raise Forbidden(N_("Only an admin can add a community."))
        parent_path = "/"
    else:
        parent = await get_node(parent_id)
        require_scope(principal, parent["path"])
        expected = CHILD_KIND.get(NodeKind(parent["kind"]))
        if expected is not kind:
            raise Invalid(
                N_("A {kind} cannot be placed under a {parent}."),
                kind=KIND_TERMS[kind],
                parent=KIND_TERMS[NodeKind(parent["kind"])],
            )
        parent_path = parent["path"]
    await _check_free_name(parent_id, name)
    async with write_transaction():
        node = Node(name=name, kind=kind.value, parent=parent_id, created_at=_now())
        await node.save()
        path = f"{parent_path}{node.id}/"
        await Node.update({Node.path: path}).where(Node.id == node.id)
        await audit.record(
            principal.actor,
            "add_node",
            "node",
            node.id,
            {"name": name, "kind": kind.value, "parent_id": parent_id},
        )
    return await get_node(node.id)


async def _check_free_name(parent_id: int | None, name: str, except_id: int | None = None) -> None:
    query = Node.select(Node.id).where(Node.name == name)
    query = query.where(Node.parent.is_null() if parent_id is None else Node.parent == parent_id)
    for row in await query:
        if row["id"] != except_id:
            raise Conflict(N_("There is already a place named {name} here."), name=name)


async def rename_node(principal: Principal, node_id: int, name: str) -> None:
    node = await get_node(node_id)
    require_scope(principal, node["path"])
    name = name.strip()
    await _check_free_name(node["parent"], name, except_id=node_id)
    async with write_transaction():
        await Node.update({Node.name: name}).where(Node.id == node_id)
        await audit.record(
            principal.actor, "rename_node", "node", node_id, {"from": node["name"], "to": name}
        )


async def move_node(principal: Principal, node_id: int, parent_id: int) -> None:
    """Hang a node and its whole subtree under another parent of the same kind."""
    node = await get_node(node_id)
    parent = await get_node(parent_id)
    require_scope(principal, node["path"])
    require_scope(principal, parent["path"])
    if CHILD_KIND.get(NodeKind(parent["kind"])) is not NodeKind(node["kind"]):
        raise Invalid(
            N_("A {kind} cannot be placed under a {parent}."),
            kind=KIND_TERMS[NodeKind(node["kind"])],
            parent=KIND_TERMS[NodeKind(parent["kind"])],
        )
    if parent["path"].startswith(node["path"]):
        raise Invalid(N_("A place cannot be moved inside itself."))
    await _check_free_name(parent_id, node["name"])
    old_prefix = node["path"]
    new_prefix = f"{parent['path']}{node_id}/"
    async with write_transaction():
        await Node.update({Node.parent: parent_id}).where(Node.id == node_id)
        for row in await Node.select(Node.id, Node.path).where(Node.path.like(f"{old_prefix}%")):
            await Node.update({Node.path: new_prefix + row["path"][len(old_prefix) :]}).where(
                Node.id == row["id"]
            )
        await audit.record(
            principal.actor,
            "move_node",
            "node",
            node_id,
            {"from_parent": node["parent"], "to_parent": parent_id},
        )


async def set_node_active(principal: Principal, node_id: int, active: bool) -> None:
    node = await get_node(node_id)
    require_scope(principal, node["path"])
    if not active and await Resident.exists().where(
        (Resident.household.path.like(f"{node['path']}%")) & (Resident.active == True)  # noqa: E712
    ):
        raise Conflict(N_("Move or deactivate the residents of this place first."))
    async with write_transaction():
        await Node.update({Node.active: active}).where(Node.path.like(f"{node['path']}%"))
        await audit.record(principal.actor, "activate_node" if active else "deactivate_node", "node", node_id)


async def place_choices(*, kinds: tuple[NodeKind, ...], under: str = "/") -> list[dict[str, Any]]:
    """Places to pick from a list, labelled with their full name ("第一网格 1栋 2单元 301")."""
    rows = await Node.select(Node.id, Node.name, Node.kind, Node.path, Node.active).where(
        Node.path.like(f"{under}%")
    )
    names = {row["id"]: row["name"] for row in rows}
    out = []
    for row in rows:
        if row["kind"] not in [k.value for k in kinds] or not row["active"]:
            continue
        ids = [int(part) for part in row["path"].strip("/").split("/")]
        parts = [names.get(i, "") for i in (ids[1:] if len(ids) > 1 else ids)]
        out.append({"id": row["id"], "kind": row["kind"], "label": " ".join(parts), "path": row["path"]})

    def natural(text: str) -> list[Any]:
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]

    out.sort(key=lambda item: (item["path"].count("/"), natural(item["label"])))
    return out


async def places_under(paths: Iterable[str], kinds: tuple[NodeKind, ...]) -> list[dict[str, Any]]:
    """The places of these kinds at or below any of `paths` (where someone may act), each
    once, the widest first; within a depth, place_choices' natural order ("2栋" before "10栋")."""
    seen: dict[int, dict[str, Any]] = {}
    for path in sorted(set(paths), key=len):
        for place in await place_choices(kinds=kinds, under=path):
            seen.setdefault(place["id"], place)
    return sorted(seen.values(), key=lambda p: p["path"].count("/"))


async def household_label(household_id: int) -> str:
    """ "1网格 3栋 2单元 301" for a household."""
    node = await get_node(household_id)
    names = [a["name"] for a in await ancestors(node) if a["kind"] != NodeKind.community.value]
    return " ".join(names)


async def household_labels(scope_path: str, separator: str = "") -> dict[int, str]:
    """Each active household of the scope labelled building, unit, room ("1栋1单元101", or
    "1栋-1单元-101" with separator "-"), as the roster shows it."""
    nodes = await Node.select(Node.id, Node.name, Node.kind, Node.path).where(
        Node.path.like(f"{scope_path}%") & (Node.active == True)  # noqa: E712
    )
    names = {n["id"]: n["name"] for n in nodes}
    labels: dict[int, str] = {}
    for node in nodes:
        if node["kind"] == NodeKind.household.value:
            ids = [int(part) for part in node["path"].strip("/").split("/")]
            labels[node["id"]] = separator.join(names.get(i, str(i)) for i in ids[-3:])
    return labels
