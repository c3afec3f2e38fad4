"""`python -m tests.bench.mktoken USERNAME`: prints a new personal API token for USERNAME
(run with COUNCIL_DATABASE_URL and PICCOLO_CONF set, as the benchmark does)."""

from __future__ import annotations

import asyncio
import os
import sys

os.environ.setdefault("PICCOLO_CONF", "council.piccolo_conf")


async def make(username: str) -> str:
    from council.accounts import login, tokens
    from council.accounts.tables import User

    row = await User.select(User.id).where(User.username == username).first()
    if row is None:
        raise SystemExit(f"no user {username!r}")
    principal = await login.load_principal(row["id"])
    if principal is None:
        raise SystemExit(f"user {username!r} is not active")
    _, token = await tokens.create_token(principal, "bench")
    return token


if __name__ == "__main__":
    print(asyncio.run(make(sys.argv[1])))
