"""The cryptographic core imports no web or database code: the verifier is built on it."""

from __future__ import annotations

import subprocess
import sys

MODULES = ["checks", "group", "proofs", "keys", "encrypt", "tally", "rules", "record", "election", "verify"]
FORBIDDEN = ("litestar", "piccolo", "asyncpg", "aiosqlite", "redis", "jinja2", "granian")


def test_core_modules_import_no_web_or_database_code() -> None:
    imports = "; ".join(f"import council.ballots.{m}" for m in MODULES)
    probe = (
        f"import sys; {imports}; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
        "or m in ('council.db', 'council.app', 'council.settings', 'council.web')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
