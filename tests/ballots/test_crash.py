"""The server is killed (SIGKILL, every process) while voters are casting: no acknowledged
ballot is lost, the board's chain is whole, and the voters whose request failed cast again.

A ballot is acknowledged when its POST answered 201 with a receipt (seq, tracking code,
head). After the kill the server is started again on the same database; the board read
back through the API must hold every receipt at its seq, chain from F to the head, and
each of its ballots must have come with its ciphertexts and its audit entry (one
transaction). Runs in both passes of the suite.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from council.audit.service import verify_chain
from council.audit.tables import AuditEntry
from council.ballots.export import record_of
from council.ballots.record import entry_hash
from council.ballots.tables import Ciphertext
from council.ballots.verify import verify_record
from tests.ballots.support_load import (
    LiveServer,
    bodies_for,
    choices_for,
    close_and_tally,
    database_url,
    post_all,
    prepare,
    read_board,
)

pytestmark = pytest.mark.slow
VOTERS = 240
KILL_AFTER = 80  # acknowledged ballots before the kill
CONCURRENCY = 48


async def test_killing_the_server_mid_vote_loses_no_acknowledged_ballot(db: None, tmp_path: Path) -> None:
    prepared = await prepare(VOTERS)
    options = choices_for(VOTERS)
    bodies = bodies_for(prepared.manifest, prepared.voters, options)
    url = database_url()

    server = LiveServer(url, tmp_path, workers=2)
    server.start()
    acknowledged = [0]

    def kill_mid_burst(_: int, status: int) -> None:
        if status == 201:
            acknowledged[0] += 1
            if acknowledged[0] == KILL_AFTER:
                server.kill()

    try:
        answers = await post_all(
            server.base, prepared.ballot_id, prepared.voters, bodies, CONCURRENCY, on_answer=kill_mid_burst
        )
    finally:
        server.kill()
    receipts = {k: data for k, (status, data) in enumerate(answers) if status == 201}
    failed = [k for k, (status, _) in enumerate(answers) if status != 201]
    assert KILL_AFTER <= len(receipts) < VOTERS, (len(receipts), server.log_tail())
    assert {status for status, _ in answers} <= {0, 201}, Counter(status for status, _ in answers)
    assert all(r is not None for r in receipts.values())

    again = LiveServer(url, tmp_path, workers=2)
    again.start()
    try:
        board = read_board(again.base, prepared.ballot_id)
        entries = board["entries"]
        # the chain: F, then each entry's hash over the one before it, up to the head
        prev = prepared.manifest["fingerprint"]
        for seq, entry in enumerate(entries):
            assert entry["seq"] == seq and entry["prev"] == prev
            assert entry_hash(prev, entry["payload"]) == entry["hash"], f"entry {seq} altered"
            prev = entry["hash"]
        assert board["head"] == prev and board["length"] == len(entries)
        # every acknowledged ballot at its seq, with its tracking code, and its head on the chain
        for k, receipt in receipts.items():
            assert receipt is not None
            entry = entries[receipt["seq"]]
            assert entry["kind"] == "ballot" and entry["payload"]["alias"] == prepared.voters[k].alias
            assert entry["tracking_code"] == receipt["tracking_code"]
            assert entry["hash"] == receipt["head"]
        # some ballots landed without their answer reaching the voter: allowed, and complete
        landed = len(entries)
        assert landed >= len(receipts)
        assert await Ciphertext.count().where(Ciphertext.ballot == prepared.ballot_id) == 3 * landed
        assert (
            await AuditEntry.count().where(
                (AuditEntry.action == "cast_ballot") & (AuditEntry.subject_id == str(prepared.ballot_id))
            )
            == landed
        )
        assert (await verify_chain()).ok

        # the voters whose request failed cast again (a fresh encryption) and it works
        retry = [prepared.voters[k] for k in failed]
        answers = await post_all(
            again.base,
            prepared.ballot_id,
            retry,
            bodies_for(prepared.manifest, retry, [options[k] for k in failed]),
            CONCURRENCY,
        )
        assert [status for status, _ in answers] == [201] * len(failed), answers[:3]
        assert read_board(again.base, prepared.ballot_id)["length"] == landed + len(failed)
    finally:
        again.stop()

    result = await close_and_tally(prepared)
    assert result["turnout"] == {"weight_cast": VOTERS, "weight_eligible": VOTERS}
    expected = Counter(options)
    assert result["counts"] == [[expected[0], expected[1], expected[2]]]
    record = await record_of(prepared.ballot_id)
    assert verify_record(record.manifest, record.board, record.result, workers=2).ok
