"""Many voters casting at once over HTTP on a real server (granian, 2 workers): every
ballot is accepted, counted once, and the record verifies.

500 voters in the PostgreSQL pass of the suite, 200 in the SQLite one. The ballots are
encrypted before the burst; the server checks every proof of every ballot.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from council.ballots.export import record_of
from council.ballots.verify import verify_record
from council.db import is_sqlite
from tests.ballots.support_load import (
    LiveServer,
    bodies_for,
    choices_for,
    close_and_tally,
    database_url,
    post_all,
    prepare,
)

pytestmark = pytest.mark.slow
CONCURRENCY = 64


async def test_voters_casting_at_once_over_http_are_all_counted(db: None, tmp_path: Path) -> None:
    voters = 200 if is_sqlite() else 500
    prepared = await prepare(voters)
    options = choices_for(voters)
    bodies = bodies_for(prepared.manifest, prepared.voters, options)

    server = LiveServer(database_url(), tmp_path, workers=2)
    server.start()
    try:
        started = time.perf_counter()
        answers = await post_all(server.base, prepared.ballot_id, prepared.voters, bodies, CONCURRENCY)
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: voters}, (statuses, [a for a in answers if a[0] != 201][:3], server.log_tail())
    print(f"\n{voters} ballots accepted in {elapsed:.2f} s ({voters / elapsed:.0f}/s)")

    # one board entry per voter, seq 0..V-1, each receipt's head on the chain
    receipts = [data for _, data in answers if data is not None]
    assert sorted(r["seq"] for r in receipts) == list(range(voters))
    assert len({r["tracking_code"] for r in receipts}) == voters

    result = await close_and_tally(prepared)
    assert result["turnout"] == {"weight_cast": voters, "weight_eligible": voters}
    expected = Counter(options)
    assert result["counts"] == [[expected[0], expected[1], expected[2]]]
    record = await record_of(prepared.ballot_id)
    board = {e["seq"]: e for e in record.board}
    assert all(board[r["seq"]]["hash"] == r["head"] for r in receipts)
    report = verify_record(record.manifest, record.board, record.result, workers=2)
    assert report.ok, report
