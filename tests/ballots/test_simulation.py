"""Whole elections through the service code (council.ballots.simulation) on the test
database, `council ballots simulate` end to end, and `council ballots export`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from council.ballots.record import read_record
from council.ballots.simulation import Simulation, simulate_election
from council.ballots.tables import Ballot, BallotSecrecy, BallotStatus, RosterEntry, WeightBasis
from council.ballots.verify import verify_record
from tests.conftest import TEST_DB
from tests.factories import make_community

ROOT = Path(__file__).resolve().parents[2]


def check(sim: Simulation) -> None:
    """The record verifies, and its counts are what the simulated voters chose."""
    record = sim.record
    report = verify_record(record.manifest, record.board, record.result, workers=1)
    assert report.ok, report.text()
    assert record.result["counts"] == sim.expected
    kinds = Counter(entry["kind"] for entry in record.board)
    vote_kind = "ballot" if sim.secrecy == "secret" else "vote"
    assert kinds[vote_kind] == sim.ballots == sim.voted + sim.revotes
    assert kinds["audited"] == sim.audits
    assert kinds["share"] == len(sim.shares_from)
    assert kinds["close"] == kinds["result"] == 1
    assert record.result["turnout"] == {"weight_cast": sim.voted, "weight_eligible": sim.roster}
    assert len(record.manifest["roster"]) == sim.roster


@pytest.mark.parametrize(
    ("methods", "secrecy", "basis"),
    [
        (("yes_no_abstain",), BallotSecrecy.secret, WeightBasis.household),
        (("approval",), BallotSecrecy.secret, WeightBasis.resident),
        (("budget",), BallotSecrecy.secret, WeightBasis.household),
        (("yes_no_abstain", "approval", "budget"), BallotSecrecy.open, WeightBasis.resident),
    ],
)
async def test_a_simulated_election_verifies_and_counts_the_choices(
    db: None, methods: tuple[str, ...], secrecy: BallotSecrecy, basis: WeightBasis
) -> None:
    sim = await simulate_election(
        voters=9, methods=methods, secrecy=secrecy, weight_basis=basis, audits=2, revotes=2, seed=5
    )
    check(sim)
    assert sim.roster == 9 and sim.voted == round(9 * 0.8) and sim.revotes == 2
    assert sim.audits == (2 if secrecy is BallotSecrecy.secret else 0)
    assert [q["text"] for q in sim.record.manifest["questions"]] == [
        {
            "yes_no_abstain": "是否同意加装电梯？",
            "approval": "选出两位楼栋长",
            "budget": "微更新项目（预算 10 万元）",
        }[m]
        for m in methods
    ]
    row = await Ballot.select(Ballot.status, Ballot.weight_basis).where(Ballot.id == sim.ballot_id).first()
    assert row == {"status": BallotStatus.tallied.value, "weight_basis": basis.value}
    assert await RosterEntry.count().where(RosterEntry.ballot == sim.ballot_id) == 9


async def test_other_trustees_and_thresholds(db: None) -> None:
    sim = await simulate_election(voters=6, trustees=4, threshold=3, turnout=1.0, seed=2, concurrency=3)
    check(sim)
    assert sim.record.manifest["n"] == 4 and sim.record.manifest["t"] == 3 and len(sim.shares_from) == 3
    alone = await simulate_election(voters=3, trustees=1, audits=0, revotes=0, seed=2)
    check(alone)
    assert alone.shares_from == [1] and alone.record.manifest["t"] == 1


async def test_the_seed_fixes_the_choices(db: None) -> None:
    first = await simulate_election(voters=10, methods=("approval",), seed=11)
    again = await simulate_election(voters=10, methods=("approval",), seed=11)
    other = await simulate_election(voters=10, methods=("approval",), seed=12)
    assert first.ballot_id != again.ballot_id
    assert first.expected == again.expected == again.record.result["counts"]
    assert [a["alias"] for a in first.record.manifest["roster"]] == [
        a["alias"] for a in again.record.manifest["roster"]
    ]
    # two fresh encryptions of the same choices never share a ciphertext
    assert first.record.result["sums"] != again.record.result["sums"]
    assert (other.expected, other.record.result["turnout"]) != (
        first.expected,
        first.record.result["turnout"],
    )


def council(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "council.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def database_url() -> str:
    """The URL of the test's own database, for a subprocess (call inside the `db` fixture)."""
    from council.db import engine

    db: Any = engine()
    return f"sqlite:///{db.path}" if TEST_DB == "sqlite" else os.environ["COUNCIL_DATABASE_URL"]


async def test_the_simulate_command_writes_a_record_that_verifies(db: None, tmp_path: Path) -> None:
    out = tmp_path / "X.zip"
    # On PostgreSQL the command runs on the suite's (empty) database; on SQLite on its own scratch file.
    extra = ["--database", database_url()] if TEST_DB == "postgres" else []
    made = council("ballots", "simulate", "--voters", "20", "--out", str(out), "--seed", "4", *extra)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "equal the simulated choices" in made.stdout and "head " in made.stdout
    record = read_record(out)
    assert len(record.manifest["roster"]) == 20 and record.manifest["secrecy"] == "secret"
    assert record.result["head"] in made.stdout
    checked = council("verify", str(out), "--workers", "1")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "VERIFIED" in checked.stdout
    # the old form, with the record as the argument, still works; an open ballot too
    old = tmp_path / "old.zip"
    made = council("ballots", "simulate", str(old), "--voters", "5", "--open", *extra)
    assert made.returncode == 0, made.stdout + made.stderr
    opened = read_record(old)
    assert opened.manifest["secrecy"] == "open"
    assert verify_record(opened.manifest, opened.board, opened.result, workers=1).ok


async def test_simulate_refuses_a_database_with_real_data(db: None, tmp_path: Path) -> None:
    await make_community()
    refused = council("ballots", "simulate", "--out", str(tmp_path / "r.zip"), "--database", database_url())
    assert refused.returncode == 2
    assert "holds community '幸福里'" in refused.stderr and "scratch database" in refused.stderr
    assert not (tmp_path / "r.zip").exists()
    assert await Ballot.count() == 0


async def test_export_writes_a_tallied_ballots_record(db: None, tmp_path: Path) -> None:
    sim = await simulate_election(voters=7, methods=("yes_no_abstain", "budget"), seed=8)
    env = {"COUNCIL_DATABASE_URL": database_url()}
    out = tmp_path / "exported.zip"
    done = council("ballots", "export", str(sim.ballot_id), "--out", str(out), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sim.record.result["head"] in done.stdout
    record = read_record(out)
    assert (record.manifest, record.board, record.result) == (
        sim.record.manifest,
        sim.record.board,
        sim.record.result,
    )
    assert verify_record(record.manifest, record.board, record.result, workers=1).ok
    # the default file name, in the working directory
    done = subprocess.run(
        [sys.executable, "-m", "council.cli", "ballots", "export", str(sim.ballot_id)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert read_record(tmp_path / f"ballot-{sim.ballot_id}-record.zip").result == sim.record.result

    await Ballot.update({Ballot.status: BallotStatus.closed.value}).where(Ballot.id == sim.ballot_id)
    unfinished = council("ballots", "export", str(sim.ballot_id), "--out", str(tmp_path / "u.zip"), env=env)
    assert unfinished.returncode == 2 and not (tmp_path / "u.zip").exists()
