"""CSV import (all or nothing, with a report per bad row) and export."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from typing import Any

from council.accounts.tables import Role
from council.audit.tables import AuditEntry
from council.community.tables import Node, NodeKind, Resident
from council.db import engine
from tests.factories import csrf_from, login, make_community, make_user

HEADER = "code,name,phone,grid,building,unit,household,representative\n"


async def _staff(client: Any, settings: Any) -> Any:
    c = await make_community()
    await make_user(settings, "staff", [(Role.staff, c.community["id"])])
    await login(client, "staff")
    client.headers["x-csrftoken"] = client.cookies.get("council_csrf")
    return c


async def test_good_file_imports_every_row_and_creates_households(client: Any, settings: Any) -> None:
    c = await _staff(client, settings)
    body = HEADER + "R3001,赵丽,13911112222,网格1,1栋,1单元,201,是\nR3002,钱强,,网格1,1栋,1单元,201,否\n"
    response = await client.post(
        f"/api/v1/residents/import?community={c.community['id']}",
        content=body.encode(),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "imported": 2, "households_created": 1, "problems": []}
    household = (
        await Node.objects().where((Node.name == "201") & (Node.kind == NodeKind.household.value)).first()
    )
    assert household.path == f"{c.units[0]['path']}{household.id}/"
    rows = await Resident.select(Resident.code, Resident.is_representative).where(
        Resident.household == household.id
    )
    assert sorted((r["code"], r["is_representative"]) for r in rows) == [("R3001", True), ("R3002", False)]
    entry = await AuditEntry.objects().where(AuditEntry.action == "import_residents").first()
    assert '"residents":2' in entry.data


async def test_bad_file_changes_nothing_and_names_each_bad_row(client: Any, settings: Any) -> None:
    c = await _staff(client, settings)
    before = (await Resident.count(), await Node.count(), await AuditEntry.count())
    body = (
        HEADER
        + "R4001,好人,13911112222,网格1,1栋,1单元,301,是\n"  # fine
        + "R4002,无楼,13911112222,网格1,99栋,1单元,301,否\n"  # unknown building
        + "R4001,重号,13911112222,网格1,1栋,1单元,302,否\n"  # duplicate in file
        + "R1101,已有,13911112222,网格1,1栋,1单元,303,否\n"  # already on roster
        + "R4005,坏号,12345,网格1,1栋,1单元,304,否\n"  # bad phone
        + "R4006,错格,,网格2,1栋,1单元,305,否\n"  # building not in that grid
        + "R4007,无单元,,网格1,1栋,9单元,306,否\n"
    )  # unknown unit
    response = await client.post(
        f"/api/v1/residents/import?community={c.community['id']}",
        content=body.encode(),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 422
    report = response.json()
    assert report["ok"] is False and report["imported"] == 0
    by_row = {(p["row"], p["field"]) for p in report["problems"]}
    assert by_row == {(3, "building"), (4, "code"), (5, "code"), (6, "phone"), (7, "grid"), (8, "unit")}
    assert (await Resident.count(), await Node.count(), await AuditEntry.count()) == before


async def test_upload_page_shows_the_report(client: Any, settings: Any) -> None:
    c = await _staff(client, settings)
    page = await client.get("/roster/import")
    body = (HEADER + "R5001,甲,,网格1,7栋,1单元,101,否\n").encode("gb18030")
    response = await client.post(
        "/roster/import",
        data={"community_id": str(c.community["id"]), "_csrf_token": csrf_from(page.text)},
        files={"file": ("residents.csv", body, "text/csv")},
    )
    assert response.status_code == 422
    assert "7栋" in response.text
    assert await Resident.count() == len(c.residents)


async def test_chinese_headers_are_understood(client: Any, settings: Any) -> None:
    c = await _staff(client, settings)
    body = "编号,姓名,电话,楼栋,单元,户,户代表\nR6001,孙梅,,2栋,1单元,102,否\n"
    response = await client.post(
        f"/api/v1/residents/import?community={c.community['id']}",
        content=("\ufeff" + body).encode(),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert await Resident.exists().where(Resident.code == "R6001")


async def test_missing_columns_are_reported(client: Any, settings: Any) -> None:
    c = await _staff(client, settings)
    response = await client.post(
        f"/api/v1/residents/import?community={c.community['id']}",
        content=b"code,name\nR1,x\n",
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["row"] == 1 and "building" in problem["field"]


async def test_export_round_trips_through_import(client: Any, settings: Any) -> None:
    c = await _staff(client, settings)
    response = await client.get(f"/api/v1/residents/export.csv?scope={c.community['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    assert rows[0] == {
        "code": "R1101",
        "name": "居民1101",
        "phone": "13800138000",
        "grid": "网格1",
        "building": "1栋",
        "unit": "1单元",
        "household": "101",
        "representative": "是",
    }
    # The same rows under new codes import cleanly: the export is a valid import file.
    renamed = text.replace("R1", "N1").replace("R2", "N2")
    again = await client.post(
        f"/api/v1/residents/import?community={c.community['id']}",
        content=renamed.encode(),
        headers={"content-type": "text/csv"},
    )
    assert again.status_code == 200 and again.json()["imported"] == 4


async def test_cli_import_reports_and_imports(db: None, settings: Any, tmp_path: Any) -> None:
    c = await make_community()
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "R8001,甲,,网格1,1栋,1单元,101,maybe\n", encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "R8001,甲,,网格1,1栋,1单元,101,否\n", encoding="utf-8")
    db_engine: Any = engine()
    url = f"sqlite:///{db_engine.path}" if hasattr(db_engine, "path") else os.environ["COUNCIL_DATABASE_URL"]
    env = {**os.environ, "COUNCIL_DATABASE_URL": url}
    cmd = [sys.executable, "-m", "council.cli", "import-residents", "--community", c.community["name"]]
    failed = subprocess.run([*cmd, str(bad)], env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert "row 2 [representative]" in failed.stderr
    assert not await Resident.exists().where(Resident.code == "R8001")
    done = subprocess.run([*cmd, str(good)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Imported 1 residents" in done.stdout
    assert await Resident.exists().where(Resident.code == "R8001")


async def test_export_defuses_spreadsheet_formulas(client: Any, settings: Any) -> None:
    c = await _staff(client, settings)
    made = await client.post(
        "/api/v1/residents",
        json={"code": "EVIL1", "name": '=HYPERLINK("http://x")', "household_id": c.households[0]["id"]},
    )
    assert made.status_code == 201
    text = (await client.get(f"/api/v1/residents/export.csv?scope={c.community['id']}")).content.decode(
        "utf-8-sig"
    )
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["code"] == "EVIL1")
    assert row["name"].startswith("'=")


async def test_a_large_file_imports_in_slices(db: None, settings: Any) -> None:
    """More rows than one statement can carry on PostgreSQL (32,767 parameters)."""
    from council.community.roster_csv import import_residents
    from tests.factories import ROOT

    c = await make_community()
    rows = [
        f"L{k:05d},居民{k},,网格1,1栋,1单元,{1000 + k // 2},{'是' if k % 2 == 0 else '否'}"
        for k in range(5000)
    ]
    result = await import_residents(ROOT, c.community["id"], (HEADER + "\n".join(rows) + "\n").encode())
    assert result.ok and result.imported == 5000 and result.households_created == 2500
    assert await Resident.count().where(Resident.code.like("L%")) == 5000
