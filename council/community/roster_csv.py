"""CSV import (all or nothing, with a report naming each bad row) and export of residents.

Columns: code, name, phone, grid, building, unit, household, representative. Chinese
headers (编号, 姓名, 电话, 网格, 楼栋, 单元, 户, 户代表) are accepted too, and files saved
by Excel in GB18030 are read as well as UTF-8.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime
from typing import Any

from council.accounts.principal import Principal
from council.accounts.tables import Role
from council.audit import service as audit
from council.community.service import PHONE_RE, get_node
from council.community.tables import Node, NodeKind, Resident
from council.db import write_transaction
from council.errors import Forbidden, Invalid
from council.i18n import N_

COLUMNS = ["code", "name", "phone", "grid", "building", "unit", "household", "representative"]
REQUIRED = {"code", "name", "building", "unit", "household"}
ALIASES = {
    "编号": "code",
    "居民编号": "code",
    "id": "code",
    "姓名": "name",
    "电话": "phone",
    "手机": "phone",
    "手机号": "phone",
    "网格": "grid",
    "楼栋": "building",
    "楼": "building",
    "单元": "unit",
    "户": "household",
    "门牌": "household",
    "房号": "household",
    "户号": "household",
    "户代表": "representative",
}
TRUE_WORDS = {"1", "yes", "y", "true", "是", "√"}
FALSE_WORDS = {"", "0", "no", "n", "false", "否"}
MAX_ROWS = 20_000
CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

INSERT_BATCH = 1000  # residents per INSERT statement


@dataclass
class Problem:
    row: int
    field: str
    message: str
    params: dict[str, Any] = dc_field(default_factory=dict)


@dataclass
class ImportResult:
    problems: list[Problem]
    imported: int = 0
    households_created: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid(N_("The file is not text in UTF-8 or GB18030."))


def _header(raw: list[str]) -> list[str]:
    names = []
    for cell in raw:
        key = cell.strip().lower()
        names.append(ALIASES.get(cell.strip(), ALIASES.get(key, key)))
    return names


async def _places(community_id: int) -> dict[tuple[str, ...], dict[str, Any]]:
    """Buildings, units and households of a community, keyed by their names."""
    community = await get_node(community_id)
    rows = await Node.select(Node.id, Node.kind, Node.name, Node.parent, Node.path, Node.active).where(
        Node.path.like(f"{community['path']}%")
    )
    by_id = {row["id"]: row for row in rows}
    places: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        if row["kind"] == NodeKind.building.value:
            places[("building", row["name"])] = row
        elif row["kind"] == NodeKind.unit.value:
            building = by_id[row["parent"]]
            places[("unit", building["name"], row["name"])] = row
        elif row["kind"] == NodeKind.household.value:
            unit = by_id[row["parent"]]
            building = by_id[unit["parent"]]
            places[("household", building["name"], unit["name"], row["name"])] = row
    for row in rows:
        if row["kind"] == NodeKind.building.value:
            row["grid_name"] = by_id[row["parent"]]["name"]
    return places


async def import_residents(
    principal: Principal, community_id: int, data: bytes, filename: str = ""
) -> ImportResult:
    community = await get_node(community_id)
    if community["kind"] != NodeKind.community.value:
        raise Invalid(N_("Residents are imported into a community."))
    if not principal.has_role(Role.staff, Role.admin):
        raise Forbidden(N_("Only community staff can import residents."))
    text = decode(data)
    reader = csv.reader(io.StringIO(text))
    try:
        header = _header(next(reader))
    except StopIteration:
        raise Invalid(N_("The file is empty.")) from None
    missing = sorted(REQUIRED - set(header))
    if missing:
        return ImportResult(
            [
                Problem(
                    1, ",".join(missing), N_("Missing column(s): {columns}."), {"columns": ", ".join(missing)}
                )
            ]
        )
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        return ImportResult(
            [
                Problem(
                    1, ",".join(unknown), N_("Unknown column(s): {columns}."), {"columns": ", ".join(unknown)}
                )
            ]
        )

    places = await _places(community_id)
    existing_codes = {r["code"] for r in await Resident.select(Resident.code)}
    problems: list[Problem] = []
    seen_codes: dict[str, int] = {}
    good: list[dict[str, Any]] = []
    for line_no, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        if line_no - 1 > MAX_ROWS:
            problems.append(Problem(line_no, "", N_("The file has more than {n} rows."), {"n": MAX_ROWS}))
            break
        if len(raw) != len(header):
            problems.append(
                Problem(
                    line_no,
                    "",
                    N_("Expected {expected} cells, found {found}."),
                    {"expected": len(header), "found": len(raw)},
                )
            )
            continue
        row = {name: cell.strip() for name, cell in zip(header, raw, strict=True)}
        row_problems = _check_row(line_no, row, places, existing_codes, seen_codes, principal)
        if row_problems:
            problems.extend(row_problems)
        else:
            good.append(row)
    if problems:
        return ImportResult(problems)
    if not good:
        return ImportResult([Problem(2, "", N_("The file has no residents."))])

    now = datetime.now(UTC)
    created = 0
    async with write_transaction():
        for row in good:
            key = ("household", row["building"], row["unit"], row["household"])
            if key not in places:
                unit = places[("unit", row["building"], row["unit"])]
                household = Node(
                    name=row["household"], kind=NodeKind.household.value, parent=unit["id"], created_at=now
                )
                await household.save()
                path = f"{unit['path']}{household.id}/"
                await Node.update({Node.path: path}).where(Node.id == household.id)
                places[key] = {"id": household.id, "path": path}
                created += 1
            row["household_id"] = places[key]["id"]
        # In slices: PostgreSQL takes at most 32,767 parameters in one statement.
        for start in range(0, len(good), INSERT_BATCH):
            await Resident.insert(
                *[
                    Resident(
                        code=row["code"],
                        name=row["name"],
                        phone=row.get("phone", ""),
                        household=row["household_id"],
                        is_representative=row.get("representative", "").lower() in TRUE_WORDS,
                        created_at=now,
                        updated_at=now,
                    )
                    for row in good[start : start + INSERT_BATCH]
                ]
            )
        await audit.record(
            principal.actor,
            "import_residents",
            "node",
            community_id,
            {
                "file": filename[:200],
                "sha256": hashlib.sha256(data).hexdigest(),
                "residents": len(good),
                "households_created": created,
                "codes": [row["code"] for row in good],
            },
        )
    return ImportResult([], imported=len(good), households_created=created)


def _check_row(
    line: int,
    row: dict[str, str],
    places: dict[tuple[str, ...], dict[str, Any]],
    existing_codes: set[str],
    seen_codes: dict[str, int],
    principal: Principal,
) -> list[Problem]:
    problems: list[Problem] = []
    code = row.get("code", "")
    if not code or len(code) > 32 or not set(code) <= CODE_CHARS:
        problems.append(
            Problem(
                line,
                "code",
                N_("The ID {code} is empty, too long or has characters other than letters, digits, - and _."),
                {"code": code},
            )
        )
    elif code in existing_codes:
        problems.append(
            Problem(line, "code", N_("Duplicate ID {code}: already on the roster."), {"code": code})
        )
    elif code in seen_codes:
        problems.append(
            Problem(
                line,
                "code",
                N_("Duplicate ID {code}: also on row {other}."),
                {"code": code, "other": seen_codes[code]},
            )
        )
    else:
        seen_codes[code] = line
    name = row.get("name", "")
    if not name or len(name) > 100:
        problems.append(Problem(line, "name", N_("A name of 1 to 100 characters is required.")))
    phone = row.get("phone", "").replace(" ", "")
    row["phone"] = phone
    if phone and not PHONE_RE.match(phone):
        problems.append(Problem(line, "phone", N_("Bad phone number {phone}."), {"phone": phone}))
    representative = row.get("representative", "").lower()
    if representative not in TRUE_WORDS | FALSE_WORDS:
        problems.append(
            Problem(
                line,
                "representative",
                N_("Write 是 or 否 (yes or no), not {value}."),
                {"value": representative},
            )
        )
    building = places.get(("building", row.get("building", "")))
    if building is None:
        problems.append(
            Problem(line, "building", N_("Unknown building {name}."), {"name": row.get("building", "")})
        )
        return problems
    grid = row.get("grid", "")
    if grid and building.get("grid_name") != grid:
        problems.append(
            Problem(
                line,
                "grid",
                N_("Building {building} is not in grid {grid}."),
                {"building": building["name"], "grid": grid},
            )
        )
    unit = places.get(("unit", row["building"], row.get("unit", "")))
    if unit is None:
        problems.append(
            Problem(
                line,
                "unit",
                N_("Unknown unit {unit} in building {building}."),
                {"unit": row.get("unit", ""), "building": row["building"]},
            )
        )
        return problems
    if not principal.can(unit["path"], Role.staff):
        problems.append(
            Problem(line, "building", N_("Building {name} is outside your scope."), {"name": row["building"]})
        )
    household = row.get("household", "")
    if not household or len(household) > 100:
        problems.append(Problem(line, "household", N_("A household (room number) is required.")))
    else:
        existing = places.get(("household", row["building"], row["unit"], household))
        if existing is not None and not existing["active"]:
            problems.append(
                Problem(line, "household", N_("Household {name} is deactivated."), {"name": household})
            )
    return problems
