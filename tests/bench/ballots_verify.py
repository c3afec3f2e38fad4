"""A 10,000-ballot record, built and verified: `python -m tests.bench.ballots_verify`.

One yes/no/abstain question, trustees 3 of 5, every voter of weight 1, one ballot each.
Prints how long each part takes on this machine: trustee key generation and opening,
the voters' encryption (in a process pool, as 10,000 browsers would do it in parallel),
posting to the board, the tally (sums, three trustees' decryption shares, counts,
outcome), writing and reading the zip, verify_record with its process pool, and last the
`council verify` command on the zip, as a whole process.
Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from council.ballots.election import Election
from council.ballots.encrypt import QuestionShape, answers_to_json, encrypt_ballot
from council.ballots.group import Point
from council.ballots.record import read_record, record_bytes
from council.ballots.verify import default_workers, verify_record

QUESTION = {"text": "是否同意加装电梯？", "options": ["赞成", "反对", "弃权"], "min": 1, "max": 1}
T = TypeVar("T")


def encrypt_chunk(fingerprint: bytes, public_key: bytes, votes: Sequence[tuple[str, int]]) -> list[Any]:
    """Each voter's ballot as board JSON (a pool worker: plain values in and out)."""
    shapes = [QuestionShape(3, 1, 1)]
    y = Point(public_key)
    out = []
    for alias, choice in votes:
        selection = [[int(k == choice) for k in range(3)]]
        answers, _ = encrypt_ballot(fingerprint, alias, shapes, y, selection)
        out.append(answers_to_json(answers))
    return out


def timed(label: str, action: Callable[[], T], rows: list[tuple[str, float]]) -> T:
    start = time.perf_counter()
    value = action()
    rows.append((label, time.perf_counter() - start))
    print(f"  {label:<72} {rows[-1][1]:8.2f} s", flush=True)
    return value


def run(voters: int, workers: int) -> None:
    rng = random.Random(20250601)
    roster = [{"alias": f"{1 + v // 1000}-{1 + v // 100 % 10}-{v:05d}", "weight": 1} for v in range(voters)]
    votes = [(row["alias"], rng.choice((0, 0, 0, 1, 2))) for row in roster]
    rows: list[tuple[str, float]] = []
    print(
        f"{voters:,} yes/no/abstain ballots, trustees 3 of 5, {workers} worker process(es), {os.cpu_count()} CPUs"
    )
    election = timed(
        "trustee key generation, sealed shares, manifest",
        lambda: Election(
            questions=[QUESTION],
            roster=roster,
            n=5,
            t=3,
            rule={"preset": "resident_meeting", "abstain_option": 2},
            check_ballots=False,
        ),
        rows,
    )
    assert election.public_key is not None
    size = math.ceil(voters / (workers * 4))
    chunks = [votes[i : i + size] for i in range(0, voters, size)]

    def encrypt_all() -> list[Any]:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            key = election.public_key.to_bytes() if election.public_key else b""
            parts = pool.map(encrypt_chunk, [election.fingerprint] * len(chunks), [key] * len(chunks), chunks)
            return [answers for part in parts for answers in part]

    ballots = timed(f"encrypt {voters:,} ballots (voters' side, pool of {workers})", encrypt_all, rows)

    def post_all() -> None:
        for (alias, _), answers in zip(votes, ballots, strict=True):
            election.post_ballot(alias, answers)

    timed("post them to the board (chain, duplicate check; proofs not rechecked)", post_all, rows)
    record = timed("tally: close, sums, 3 decryption shares with proofs, counts", election.tally, rows)
    data = timed("write the zip", lambda: record_bytes(record), rows)
    again = timed(f"read the zip ({len(data) / 1e6:.1f} MB)", lambda: read_record(data), rows)
    report = timed(
        f"verify_record (pool of {workers})",
        lambda: verify_record(again.manifest, again.board, again.result, workers=workers),
        rows,
    )
    print(
        f"  counts {record.result['counts']}, outcome passed: {record.result['outcome']['questions'][0]['passed']}"
    )
    print("  verified" if report.ok else f"  NOT VERIFIED: {report.failure}")
    print(f"  verify per ballot: {1000 * rows[-1][1] / voters:.2f} ms wall")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "record.zip"
        path.write_bytes(data)
        command = [str(Path(sys.executable).with_name("council")), "verify", str(path)]
        done = timed(
            "`council verify RECORD` as a command (start-up, reading, every check)",
            lambda: subprocess.run(command, capture_output=True, text=True),
            rows,
        )
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
        print(f"  exit {done.returncode}: {last}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args(argv)
    run(args.voters, args.workers)
    return 0


if __name__ == "__main__":
    # Through the importable module, so the pool's workers find encrypt_chunk.
    from tests.bench.ballots_verify import main as _main

    sys.exit(_main())
