"""CSV export of residents, in the format the import reads."""

from __future__ import annotations

import csv
import io

from council.community.roster_csv import COLUMNS
from council.community.service import get_node
from council.community.tables import Node, Resident


def _cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export_residents(scope_id: int, include_inactive: bool = False) -> str:
    scope = await get_node(scope_id)
    nodes = {row["id"]: row for row in await Node.select(Node.id, Node.name, Node.kind, Node.path)}
    condition = Resident.household.path.like(f"{scope['path']}%")
    if not include_inactive:
        condition &= Resident.active == True  # noqa: E712
    residents = (
        await Resident.select(
            Resident.code, Resident.name, Resident.phone, Resident.household, Resident.is_representative
        )
        .where(condition)
        .order_by(Resident.household.path)
        .order_by(Resident.code)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for resident in residents:
        ids = [int(p) for p in nodes[resident["household"]]["path"].strip("/").split("/")]
        names = {nodes[i]["kind"]: nodes[i]["name"] for i in ids}
        writer.writerow(
            [
                resident["code"],
                _cell(resident["name"]),
                resident["phone"],
                names.get("grid", ""),
                names.get("building", ""),
                names.get("unit", ""),
                names.get("household", ""),
                "是" if resident["is_representative"] else "否",
            ]
        )
    return out.getvalue()
