"""The database side of the casting benchmark (tests/bench/ballots_http.py), one step per
command, each in its own process with the scratch database's environment
(COUNCIL_DATABASE_URL, PICCOLO_CONF); each prints one JSON line last.

  prepare --voters N --sample S --out FILE   an open secret ballot, N + S voters with tokens
  encrypt --in FILE --out FILE --jobs J      the first N voters' ballots, encrypted (J processes)
  costs --in FILE                            the S sample voters cast in this process, timed by part
  tally --in FILE                            close, t decryption shares, counts checked, record verified
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("PICCOLO_CONF", "council.piccolo_conf")

from tests.bench.stats import percentile


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50": percentile(samples, 50),
        "p95": percentile(samples, 95),
        "mean": sum(samples) / len(samples) if samples else 0.0,
    }


async def prepare(voters: int, sample: int, out: Path) -> dict[str, Any]:
    from tests.ballots.support_load import prepare as prepare_ballot

    started = time.perf_counter()
    prepared = await prepare_ballot(voters + sample)
    data = prepared.to_json()
    data["load"] = voters
    data["sample"] = sample
    out.write_text(json.dumps(data))
    return {
        "seconds": time.perf_counter() - started,
        "timings": prepared.timings,
        "ballot_id": prepared.ballot_id,
    }


def _encrypt_chunk(job: tuple[dict[str, Any], list[tuple[str, str, int]]]) -> list[dict[str, Any]]:
    from tests.ballots.support_load import encrypted_body

    manifest, chunk = job
    return [
        {"token": token, "body": encrypted_body(manifest, alias, option)} for alias, token, option in chunk
    ]


def encrypt(source: Path, out: Path, jobs: int) -> dict[str, Any]:
    from tests.ballots.support_load import choices_for

    data = json.loads(source.read_text())
    voters = data["voters"][: data["load"]]
    options = choices_for(len(data["voters"]))
    work = [(alias, token, options[k]) for k, (alias, token, _, _) in enumerate(voters)]
    size = max(1, -(-len(work) // (jobs * 8)))
    chunks = [(data["manifest"], work[i : i + size]) for i in range(0, len(work), size)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        bodies = [b for part in pool.map(_encrypt_chunk, chunks) for b in part]
    seconds = time.perf_counter() - started
    out.write_text(json.dumps(bodies, separators=(",", ":")))
    return {"ballots": len(bodies), "seconds": seconds, "jobs": jobs}


# costs ---------------------------------------------------------------------------------------


class Timer:
    """Wraps module attributes so that each call's time is added to a named bucket."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.current: dict[str, float] = defaultdict(float)
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, name: str, bucket: str) -> None:
        if not hasattr(owner, name):
            return
        original = getattr(owner, name)
        current = self.current

        if asyncio.iscoroutinefunction(original):

            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    current[bucket] += time.perf_counter() - start

            setattr(owner, name, timed_async)
        else:

            def timed_sync(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    current[bucket] += time.perf_counter() - start

            setattr(owner, name, timed_sync)
        self._undo.append(lambda: setattr(owner, name, original))

    def flush(self) -> None:
        for bucket, value in self.current.items():
            self.samples[bucket].append(value)
        self.current.clear()

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()


@contextmanager
def timer_on_cast_path() -> Iterator[Timer]:
    from council.audit import service as audit
    from council.ballots import board, casting

    timer = Timer()
    timer.wrap(casting, "_ballot", "ballot row")
    timer.wrap(casting, "voter_entry", "roster entry")
    timer.wrap(casting, "_parse", "parse JSON to points")
    timer.wrap(casting, "_check_fresh", "duplicate check (query)")
    timer.wrap(casting, "_own_entry", "one query: ballot, own roster entry, duplicate check")
    timer.wrap(casting, "_verify", "verify proofs (await)")
    timer.wrap(casting, "verify_ballot", "verify proofs (CPU)")
    timer.wrap(casting, "tracking_code", "tracking code")
    timer.wrap(casting, "_append_encrypted", "transaction (all)")
    timer.wrap(board, "lock_ballot", "tx: lock ballot row")
    timer.wrap(board, "append", "tx: board entry + head")
    timer.wrap(board, "append_entry", "tx: board entry + head + ciphertexts")
    timer.wrap(audit, "record", "tx: audit entry")
    try:
        yield timer
    finally:
        timer.restore()


async def _start_pool() -> Callable[[], Awaitable[None]]:
    """Connections kept open as the server keeps them (council/app.py start_pool)."""
    from piccolo.engine.postgres import PostgresEngine

    from council.db import PooledSQLiteEngine, engine
    from council.settings import Settings

    db: Any = engine()
    size = Settings.from_env().db_pool_size
    if isinstance(db, PooledSQLiteEngine):
        db.pool_size = size
        return db.close_pool  # type: ignore[no-any-return]
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=size)
        return db.close_connection_pool  # type: ignore[no-any-return]

    async def nothing() -> None:
        return None

    return nothing


def crypto_costs(manifest: dict[str, Any], alias: str, rounds: int) -> dict[str, dict[str, float]]:
    """The pure parts of one yes/no/abstain ballot's check, each timed alone."""
    from council.ballots.encrypt import (
        CHOICE_VALUES,
        answers_from_json,
        answers_to_json,
        tracking_code,
        verify_ballot,
        weighted_sum,
    )
    from council.ballots.group import Point
    from council.ballots.proofs import RangeContext, verify_range
    from council.ballots.record import question_shapes
    from council.canonical import canonical_bytes
    from tests.ballots.support_load import encrypted_body

    fingerprint = bytes.fromhex(manifest["fingerprint"])
    shapes = question_shapes(manifest["questions"])
    y = Point.from_hex(manifest["public_key"])
    body = encrypted_body(manifest, alias, 0)
    text = json.dumps(body).encode()
    answers = answers_from_json(body["answers"])
    answer, shape = answers[0], shapes[0]
    total = weighted_sum(list(zip(shape.weights(), answer.choices, strict=True)))
    actions: dict[str, Callable[[], object]] = {
        "json.loads of the body": lambda: json.loads(text),
        "parse: points decoded and checked (6), scalars (12)": lambda: answers_from_json(body["answers"]),
        "one point decoded and checked": lambda: Point.from_hex(body["answers"][0]["choices"][0]["alpha"]),
        "range proof of one option (0 or 1)": lambda: verify_range(
            RangeContext(fingerprint, alias, 0, 0),
            y,
            answer.choices[0].alpha,
            answer.choices[0].beta,
            CHOICE_VALUES,
            answer.proofs[0],
        ),
        "overall proof (exactly 1 of 3)": lambda: verify_range(
            RangeContext(fingerprint, alias, 0, None), y, total.alpha, total.beta, (1,), answer.overall
        ),
        "verify_ballot (3 range + 1 overall)": lambda: verify_ballot(fingerprint, alias, shapes, y, answers),
        "tracking code (canonical JSON + SHA-256)": lambda: tracking_code(alias, answers),
        "board payload (answers_to_json + canonical)": lambda: canonical_bytes(
            {"alias": alias, "answers": answers_to_json(answers), "cast_at": "2026-01-01T00:00:00Z"}
        ),
    }
    out: dict[str, dict[str, float]] = {}
    for name, action in actions.items():
        action()
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            action()
            samples.append(time.perf_counter() - start)
        out[name] = _summary(samples)
    return out


async def costs(source: Path, rounds: int) -> dict[str, Any]:
    from council.accounts import tokens
    from council.ballots import casting
    from tests.ballots.support_load import choices_for, encrypted_body

    data = json.loads(source.read_text())
    manifest = data["manifest"]
    first = data["load"]
    sample = data["voters"][first:]
    options = choices_for(len(data["voters"]))[first:]
    bodies = [encrypted_body(manifest, alias, options[k]) for k, (alias, _, _, _) in enumerate(sample)]
    close = await _start_pool()
    out: dict[str, Any] = {}
    try:
        auth: list[float] = []
        whole: list[float] = []
        with timer_on_cast_path() as timer:
            for k, (_, token, _, _) in enumerate(sample):
                start = time.perf_counter()
                principal = await tokens.principal_from_token(token)
                auth.append(time.perf_counter() - start)
                assert principal is not None
                start = time.perf_counter()
                await casting.cast(principal, data["ballot_id"], bodies[k]["answers"])
                whole.append(time.perf_counter() - start)
                timer.flush()
        parts = {"token → principal (one query)": _summary(auth), "casting.cast (all)": _summary(whole)}
        parts.update({name: _summary(values) for name, values in timer.samples.items()})
        out["cast"] = parts
        # asyncio.to_thread's own cost, as _verify pays it
        hops = []
        for _ in range(200):
            start = time.perf_counter()
            await asyncio.to_thread(lambda: None)
            hops.append(time.perf_counter() - start)
        out["to_thread"] = _summary(hops)
    finally:
        await close()
    out["crypto"] = crypto_costs(manifest, sample[0][0], rounds)
    return out


async def tally(source: Path, workers: int) -> dict[str, Any]:
    from council.ballots.export import record_of
    from council.ballots.verify import verify_record
    from tests.ballots.support_load import Prepared, choices_for, close_and_tally

    data = json.loads(source.read_text())
    prepared = await Prepared.from_json(data)
    options = dict(zip((v[0] for v in data["voters"]), choices_for(len(data["voters"])), strict=True))
    started = time.perf_counter()
    result = await close_and_tally(prepared)
    tally_seconds = time.perf_counter() - started
    record = await record_of(prepared.ballot_id)
    cast = {e["payload"]["alias"] for e in record.board if e["kind"] == "ballot"}
    expected = Counter(options[a] for a in cast)
    started = time.perf_counter()
    report = verify_record(record.manifest, record.board, record.result, workers=workers)
    verify_seconds = time.perf_counter() - started
    return {
        "counts": result["counts"],
        "expected": [[expected[0], expected[1], expected[2]]],
        "counts_ok": result["counts"] == [[expected[0], expected[1], expected[2]]],
        "turnout": result["turnout"],
        "board": len(record.board),
        "tally_seconds": tally_seconds,
        "verified": report.ok,
        "verify_problem": "" if report.ok else str(report),
        "verify_seconds": verify_seconds,
        "verify_workers": workers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.ballots_prepare")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--voters", type=int, required=True)
    p.add_argument("--sample", type=int, default=200)
    p.add_argument("--out", type=Path, required=True)
    e = sub.add_parser("encrypt")
    e.add_argument("--in", dest="source", type=Path, required=True)
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    c = sub.add_parser("costs")
    c.add_argument("--in", dest="source", type=Path, required=True)
    c.add_argument("--rounds", type=int, default=300)
    t = sub.add_parser("tally")
    t.add_argument("--in", dest="source", type=Path, required=True)
    t.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if args.command == "prepare":
        result = asyncio.run(prepare(args.voters, args.sample, args.out))
    elif args.command == "encrypt":
        result = encrypt(args.source, args.out, args.jobs)
    elif args.command == "costs":
        result = asyncio.run(costs(args.source, args.rounds))
    else:
        result = asyncio.run(tally(args.source, args.workers))
    print(json.dumps(result, ensure_ascii=False))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
