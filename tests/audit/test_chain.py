"""The audit chain: every change leaves an entry; editing the database breaks the chain
at the right entry, and `council audit verify` names it."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from typing import Any

import pytest

from council.audit import service as audit
from council.audit.service import GENESIS, Actor
from council.audit.tables import AuditEntry
from council.db import engine, write_transaction


async def _append(n: int) -> None:
    for i in range(n):
        async with write_transaction():
            await audit.record(Actor(1, "alice"), "test_action", "thing", i, {"i": i, "名": "社区"})


async def test_entries_link_into_a_chain(db: None) -> None:
    await _append(4)
    rows = await AuditEntry.select().order_by(AuditEntry.seq)
    assert [r["seq"] for r in rows] == [0, 1, 2, 3]
    assert rows[0]["prev_hash"] == GENESIS
    for before, after in itertools.pairwise(rows):
        assert after["prev_hash"] == before["hash"]
    report = await audit.verify_chain()
    assert report.ok and report.entries == 4 and report.head == rows[-1]["hash"]


async def test_verify_names_an_altered_entry(db: None) -> None:
    await _append(5)
    await engine().run_ddl("UPDATE audit_entry SET data = '{\"i\":99}' WHERE seq = 2")
    report = await audit.verify_chain()
    assert not report.ok
    assert report.first_bad_seq == 2
    assert "altered" in report.problem


async def test_verify_names_a_removed_entry(db: None) -> None:
    await _append(5)
    await engine().run_ddl("DELETE FROM audit_entry WHERE seq = 3")
    report = await audit.verify_chain()
    assert not report.ok and report.first_bad_seq == 3
    assert "missing" in report.problem


async def test_verify_names_an_inserted_entry(db: None) -> None:
    await _append(3)
    # Make room and insert a forged entry at seq 1 with a plausible hash of its own.
    await engine().run_ddl("UPDATE audit_entry SET seq = seq + 100 WHERE seq >= 1")
    await engine().run_ddl("UPDATE audit_entry SET seq = seq - 99 WHERE seq >= 100")
    first = await AuditEntry.select().where(AuditEntry.seq == 0).first()
    forged = {
        "seq": 1,
        "at": first["at"],
        "actor_id": 1,
        "actor_name": "mallory",
        "action": "forged",
        "subject_type": "thing",
        "subject_id": "x",
        "data": {},
    }
    from council.audit.service import entry_body, entry_hash

    body = entry_body(**forged)
    await AuditEntry(
        seq=1,
        at=first["at"],
        actor_id=1,
        actor_name="mallory",
        action="forged",
        subject_type="thing",
        subject_id="x",
        data="{}",
        prev_hash=first["hash"],
        hash=entry_hash(first["hash"], body),
    ).save()
    report = await audit.verify_chain()
    assert not report.ok
    assert report.first_bad_seq == 2, report.problem
    assert "link" in report.problem


async def test_failed_change_leaves_no_entry(db: None) -> None:
    await _append(1)
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await audit.record(Actor(1, "alice"), "doomed", "thing", 1)
            raise RuntimeError("the change failed after its audit entry was written")
    assert await AuditEntry.count() == 1
    assert (await audit.verify_chain()).ok


async def test_cli_audit_verify_exit_codes(db: None, settings: Any) -> None:
    await _append(3)
    env = {**os.environ, "COUNCIL_DATABASE_URL": _current_url()}
    ok = subprocess.run(
        [sys.executable, "-m", "council.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "OK: 3 entries" in ok.stdout
    await engine().run_ddl("UPDATE audit_entry SET actor_name = 'mallory' WHERE seq = 1")
    broken = subprocess.run(
        [sys.executable, "-m", "council.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert broken.returncode == 1
    assert "entry 1" in broken.stderr


def _current_url() -> str:
    db: Any = engine()
    if hasattr(db, "path"):
        return f"sqlite:///{db.path}"
    return os.environ["COUNCIL_DATABASE_URL"]
