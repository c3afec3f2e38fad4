"""`python -m council.ballots simulate OUT.zip` and `python -m council.ballots verify RECORD.zip`.

simulate runs a whole secret election in memory (council.ballots.election: trustees'
key generation, random ballots, one Benaloh audit, revotes, close, tally) and writes its
record; verify is council.ballots.verify's command line. No web or database code.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from typing import Any

from council.ballots.election import Election, random_selection
from council.ballots.record import write_record

QUESTIONS: dict[str, dict[str, Any]] = {
    "yes_no_abstain": {"text": "是否同意加装电梯？", "options": ["赞成", "反对", "弃权"], "min": 1, "max": 1},
    "approval": {"text": "选出两位楼栋长", "options": ["王", "李", "张", "刘"], "min": 0, "max": 2},
    "budget": {
        "text": "微更新项目（预算 10 万元）",
        "options": ["照明", "座椅", "绿化", "车棚"],
        "min": 0,
        "max": 4,
        "costs": [3, 2, 5, 4],
        "budget": 10,
    },
}


def simulate(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    roster: list[dict[str, Any]] = [
        {
            "alias": f"{1 + v // 100}-{1 + v // 10 % 10}-{v:04d}",
            "weight": rng.randint(1, 4) if args.weighted else 1,
        }
        for v in range(args.voters)
    ]
    election = Election(
        questions=[QUESTIONS[kind] for kind in args.questions.split(",")],
        roster=roster,
        n=args.trustees,
        t=args.threshold,
        rule={"preset": args.preset, "abstain_option": 2}
        if args.questions.startswith("yes_no_abstain")
        else {},
    )
    turnout = rng.sample(roster, round(len(roster) * args.turnout))
    for row in turnout:
        election.cast(row["alias"], [random_selection(rng, shape) for shape in election.shapes])
    for row in turnout[: args.audits]:
        election.audit(row["alias"], [random_selection(rng, shape) for shape in election.shapes])
    for row in turnout[: args.revotes]:
        election.cast(row["alias"], [random_selection(rng, shape) for shape in election.shapes])
    record = election.tally()
    write_record(record, args.out)
    print(
        f"{args.out}: {len(record.board)} entries, counts {record.result['counts']}, head {record.result['head']}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m council.ballots")
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="run a whole election in memory and write its record")
    sim.add_argument("out", help="RECORD.zip to write")
    sim.add_argument("--voters", type=int, default=12)
    sim.add_argument("--trustees", type=int, default=3)
    sim.add_argument("--threshold", type=int, default=None, help="t (default ⌊n/2⌋+1)")
    sim.add_argument("--questions", default="yes_no_abstain,approval", help=", ".join(QUESTIONS))
    sim.add_argument("--preset", default="resident_meeting")
    sim.add_argument("--turnout", type=float, default=0.8)
    sim.add_argument("--audits", type=int, default=1)
    sim.add_argument("--revotes", type=int, default=1)
    sim.add_argument("--weighted", action="store_true", help="roster weights 1..4 instead of 1")
    sim.add_argument("--seed", type=int, default=None)
    commands.add_parser(
        "verify", help="verify a record (see python -m council.ballots.verify --help)", add_help=False
    )
    args, rest = parser.parse_known_args(argv)
    if args.command == "verify":
        from council.ballots.verify import main as verify

        return verify(rest)
    if rest:
        parser.error("unrecognised arguments: " + " ".join(rest))
    return simulate(args)


if __name__ == "__main__":
    sys.exit(main())
