"""Ballot cryptography costs in this process: `python -m tests.bench.ballots_crypto`.

Prints per-operation figures (median and 95th percentile): the group operations, encrypting
and verifying one answer of each question kind, one DLEQ proof with its check, and the
discrete log of a count up to 10,000. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from functools import partial

from council.ballots import tally
from council.ballots.encrypt import QuestionShape, encrypt_answer, verify_answer
from council.ballots.group import GENERATOR, Scalar, base
from council.ballots.proofs import prove_dleq, verify_dleq
from tests.bench.stats import ms, percentile, table

F = bytes(range(32))
ALIAS = "1-3-0502"
SECRET = Scalar.random()
Y = base(SECRET)
SHAPES = {
    "yes/no/abstain (3 options, exactly 1)": (QuestionShape(3, 1, 1), [0, 1, 0]),
    "approval (8 options, 0..3)": (QuestionShape(8, 0, 3), [1, 0, 1, 0, 0, 1, 0, 0]),
    "budget (6 options, budget 20)": (
        QuestionShape(6, 0, 6, costs=(3, 5, 2, 7, 4, 6), budget=20),
        [1, 1, 0, 1, 0, 0],
    ),
    "budget (6 options, budget 200)": (
        QuestionShape(6, 0, 6, costs=(30, 50, 20, 70, 40, 60), budget=200),
        [1, 1, 0, 1, 0, 0],
    ),
}


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    action()  # warm-up
    samples: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return percentile(samples, 50), percentile(samples, 95)


def measure(runs: int) -> list[tuple[str, float, float]]:
    rows: list[tuple[str, float, float]] = []
    s = Scalar.random()
    point = base(Scalar.random())
    rows.append(("s·G (base multiplication)", *timed(lambda: base(s), runs * 20)))
    rows.append(("s·P (variable base)", *timed(lambda: s * point, runs * 20)))
    rows.append(("P + Q", *timed(lambda: point + GENERATOR, runs * 20)))
    for name, (shape, selection) in SHAPES.items():
        answer, _ = encrypt_answer(F, ALIAS, 0, shape, Y, selection)
        few = max(3, runs // 5) if shape.budget and shape.budget > 100 else runs
        rows.append(
            (f"encrypt {name}", *timed(partial(encrypt_answer, F, ALIAS, 0, shape, Y, selection), few))
        )
        rows.append((f"verify {name}", *timed(partial(verify_answer, F, ALIAS, 0, shape, Y, answer), few)))
    a_point = base(Scalar.random())
    d, proof = prove_dleq(F, 1, SECRET, a_point)
    rows.append(
        ("DLEQ prove (one decryption share)", *timed(lambda: prove_dleq(F, 1, SECRET, a_point), runs))
    )
    rows.append(("DLEQ verify", *timed(lambda: verify_dleq(F, 1, Y, a_point, d, proof), runs)))
    tally._baby_steps.cache_clear()
    start = time.perf_counter()
    tally.discrete_log(base(0), 10_000)
    rows.append(("BSGS baby-step table for 0..10,000 (once)", time.perf_counter() - start, float("nan")))
    for count in (0, 5_000, 10_000):
        m = base(count)
        rows.append(
            (f"BSGS count {count:,} of at most 10,000", *timed(partial(tally.discrete_log, m, 10_000), runs))
        )
    return rows


def duration(seconds: float) -> str:
    if not math.isnan(seconds) and seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    return ms(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    rows = measure(runs)
    print(
        table(["operation", "p50", "p95"], [(name, duration(p50), duration(p95)) for name, p50, p95 in rows])
    )


if __name__ == "__main__":
    main()
