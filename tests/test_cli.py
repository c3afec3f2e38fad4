"""The `council` command: help for every subcommand, and the database-free ballot tools."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _council(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "council.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_every_subcommand_has_help() -> None:
    top = _council("--help")
    assert top.returncode == 0
    for command in (
        "serve",
        "migrate",
        "demo",
        "import-residents",
        "createuser",
        "audit",
        "outbox",
        "verify",
        "ballots",
    ):
        assert command in top.stdout
        assert _council(command, "--help").returncode == 0, command


def test_simulate_then_verify_and_catch_a_tampered_record(tmp_path: Path) -> None:
    record = tmp_path / "record.zip"
    made = _council("ballots", "simulate", str(record), "--voters", "8")
    assert made.returncode == 0, made.stderr
    good = _council("verify", str(record))
    assert good.returncode == 0 and "VERIFIED" in good.stdout
    import zipfile

    with zipfile.ZipFile(record) as original:
        files = {name: original.read(name) for name in original.namelist()}
    result = json.loads(files["result.json"])
    result["head"] = "0" * 64
    files["result.json"] = json.dumps(result).encode()
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as tampered:
        for name, data in files.items():
            tampered.writestr(name, data)
    refused = _council("verify", str(bad))
    assert refused.returncode == 1
    assert "FAILED" in refused.stdout + refused.stderr
