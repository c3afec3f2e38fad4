"""The proposals list at scale: bench fixtures and in-process search timing.

`python -m tests.bench.proposals seed COUNT` inserts COUNT public proposals (70% submitted,
the rest qualified, accepted or closed) with varied Chinese titles and descriptions
straight into the `proposal` table, in batches
(no audit entries: they are fixtures, and `council audit verify` is not part of the
benchmark). `python -m tests.bench.proposals time WORD...` times queries.find() in this
process and prints the plan of the search SQL it sends. Both print one JSON line last;
run them with COUNCIL_DATABASE_URL and PICCOLO_CONF set, as the benchmark does.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

os.environ.setdefault("PICCOLO_CONF", "council.piccolo_conf")

BATCH = 500
SEED = 20261123

# (category, topic word, titles, sentences): {p} in a title is a place such as "3栋2单元".
TOPICS: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    (
        "parking",
        "停车",
        (
            "{p}门口乱停车",
            "{p}附近停车位不够",
            "晚上停车难，{p}车位全满",
            "建议在{p}东侧增设临时停车位",
            "{p}电动车停车棚太挤",
        ),
        (
            "晚上七点以后车位全满，很多车只能停在路边。",
            "外来车辆随意进出小区，占用业主停车位。",
            "建议把闲置绿地改成生态停车位，并安排夜间巡查。",
            "有的车长期不动，像是僵尸车，希望物业清理。",
        ),
    ),
    (
        "repairs",
        "电梯",
        (
            "{p}电梯经常故障",
            "{p}加装电梯意见征集",
            "{p}电梯按钮失灵",
            "希望{p}电梯加装监控",
        ),
        (
            "电梯这个月已经停了三次，老人上下楼非常困难。",
            "一楼二楼住户担心采光和噪音，希望议事会组织大家商量分摊办法。",
            "维保单位来得太慢，电话打了半天才有人接。",
        ),
    ),
    (
        "environment",
        "垃圾",
        (
            "{p}垃圾分类点太臭",
            "{p}垃圾桶经常满溢",
            "建议{p}垃圾定时定点投放",
            "{p}大件垃圾没人清运",
        ),
        (
            "夏天垃圾桶旁边蚊蝇很多，气味难闻。",
            "保洁员一天只清运一次，傍晚就满了。",
            "有人把装修垃圾堆在绿化带里，一直没人管。",
        ),
    ),
    (
        "safety",
        "路灯",
        (
            "{p}路灯不亮",
            "{p}到南门的路灯坏了",
            "{p}楼前路灯太暗",
        ),
        (
            "晚上回家一片漆黑，老人孩子容易摔倒。",
            "路灯坏了快一个月，报修以后没有下文。",
            "建议换成太阳能感应灯，省电又亮。",
        ),
    ),
    (
        "environment",
        "绿化",
        (
            "{p}绿化带杂草丛生",
            "{p}的树枝挡住窗户",
            "{p}草坪被踩秃了",
        ),
        (
            "树长得太高，挡住了低楼层的采光。",
            "绿化带里杂草比人还高，夏天蚊子特别多。",
            "希望物业定期修剪，顺便补种一些花草。",
        ),
    ),
    (
        "other",
        "噪音",
        (
            "{p}楼下广场舞噪音太大",
            "{p}夜间装修噪音扰民",
            "{p}空调外机噪音",
        ),
        (
            "晚上九点以后音响还开得很大，影响孩子写作业和老人休息。",
            "周末一大早就开始电钻，敲门提醒也没有用。",
            "希望议事会定一个大家都能接受的时间和音量。",
        ),
    ),
    (
        "care",
        "养老",
        (
            "{p}独居老人需要上门探访",
            "建议为{p}老人开办助餐点",
            "{p}老人代购代配药",
        ),
        (
            "社区六十岁以上的老人越来越多，很多独居老人做饭不方便。",
            "子女不在身边，老人生病了也没人知道。",
            "希望组织志愿者结对，每周上门看看。",
        ),
    ),
    (
        "other",
        "快递",
        (
            "{p}快递堆在门口没人管",
            "{p}需要一个快递柜",
            "{p}外卖快递车横冲直撞",
        ),
        (
            "快递员把包裹直接放在楼下，经常丢件。",
            "电动车在小区里骑得太快，差点撞到小孩。",
            "建议在南门附近设一个集中收发点。",
        ),
    ),
    (
        "safety",
        "消防通道",
        (
            "{p}消防通道被占用",
            "{p}旁边的消防通道长期停车",
            "清理{p}消防通道",
        ),
        (
            "消防通道上停满了私家车，万一着火消防车根本开不进来。",
            "消防通道画了黄线也没用，晚上照样停车。",
            "建议在消防通道两头装上隔离桩。",
        ),
    ),
    (
        "safety",
        "楼道",
        (
            "{p}楼道堆放杂物",
            "{p}楼道里有电动车充电",
            "{p}楼道声控灯坏了",
        ),
        (
            "楼道里堆满了纸箱和旧家具，存在火灾隐患。",
            "有人把电动车推进楼道充电，非常危险。",
            "声控灯坏了好几层，晚上上楼要摸黑。",
        ),
    ),
]
COMMON = (
    "已经向物业反映过多次，一直没有解决。",
    "希望议事会尽快讨论。",
    "很多邻居都有同样的意见。",
    "老人和孩子出行很不安全。",
    "请相关部门尽快处理。",
    "附近几栋楼的居民都深受困扰。",
)
# Mostly collecting co-signs, as a busy community's list would be.
STATUSES = (("submitted", 70), ("qualified", 15), ("accepted", 10), ("closed", 5))


def rows_for(count: int, scope_id: int, scope_path: str, proposers: list[int], threshold: int) -> list[Any]:
    from council.proposals.service import search_text
    from council.proposals.tables import Proposal

    rng = random.Random(SEED)
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=364) / max(count, 1)
    rows = []
    for i in range(count):
        category, _, titles, sentences = rng.choice(TOPICS)
        building = rng.randint(1, 6)
        place = f"{building}栋{rng.randint(1, 2)}单元" if rng.random() < 0.4 else f"{building}栋"
        title = rng.choice(titles).format(p=place)
        # Another topic's sentence now and then, so words also turn up outside their topic.
        other = rng.choice(TOPICS)[3] if rng.random() < 0.2 else sentences
        parts = [*rng.sample(sentences, k=2), rng.choice(other), rng.choice(COMMON)]
        description = f"{place}的情况：" + "".join(parts)
        status = rng.choices(statuses, weights)[0]
        created = start + step * i
        submitted = created + timedelta(minutes=rng.randint(1, 120))
        qualified_at = submitted + timedelta(days=rng.randint(1, 10))
        decided_at = qualified_at + timedelta(days=rng.randint(1, 7))
        qualified = qualified_at if status != "submitted" else None
        decided = decided_at if status in ("accepted", "closed") else None
        rows.append(
            Proposal(
                title=title[:100],
                description=description,
                kind="small_wish" if rng.random() < 0.4 else "matter",
                category=category,
                status=status,
                scope=scope_id,
                scope_path=scope_path,
                proposer=rng.choice(proposers),
                threshold=threshold,
                cosign_count=rng.randint(0, threshold - 1)
                if status == "submitted"
                else threshold + rng.randint(0, 5),
                search_text=search_text(title[:100], description),
                created_at=created,
                updated_at=decided or qualified or submitted,
                submitted_at=submitted,
                qualified_at=qualified,
                response_due_at=qualified + timedelta(days=7) if qualified else None,
                decided_at=decided,
            )
        )
    return rows


async def seed(count: int, words: list[str]) -> dict[str, Any]:
    from council.accounts.tables import User
    from council.community.tables import Node
    from council.db import engine, is_sqlite
    from council.proposals.tables import CommunityRules, Proposal, ProposalStatus

    community = await Node.select(Node.id, Node.path).where(Node.kind == "community").first()
    if community is None:
        raise SystemExit("no community: load the demo first")
    users = await User.select(User.id).where(User.username.is_in([f"resident{i}" for i in range(1, 6)]))
    if not users:
        raise SystemExit("no resident1..resident5 accounts: load the demo first")
    rules = await CommunityRules.select(CommunityRules.threshold_value).first()
    threshold = int(rules["threshold_value"]) if rules else 5
    before = await Proposal.count()
    rows = rows_for(count, community["id"], community["path"], [u["id"] for u in users], threshold)
    started = time.perf_counter()
    async with engine().transaction():
        for first in range(0, len(rows), BATCH):
            await Proposal.insert(*rows[first : first + BATCH])
    seconds = time.perf_counter() - started
    vacuum = 0.0
    if not is_sqlite():
        # What autovacuum does soon after a bulk insert: the rows sit in the trigram index's
        # pending list, and the planner prices that index from its empty start, until VACUUM.
        started = time.perf_counter()
        await engine().run_ddl("VACUUM ANALYZE proposal")
        vacuum = time.perf_counter() - started
    public = Proposal.status != ProposalStatus.draft.value
    matches = {
        word: await Proposal.count().where(public & Proposal.search_text.like(f"%{word}%")) for word in words
    }
    return {
        "inserted": len(rows),
        "seconds": seconds,
        "vacuum_seconds": vacuum,
        "before": before,
        "total": await Proposal.count(),
        "public": await Proposal.count().where(public),
        "matches": matches,
    }


@dataclass
class Captured:
    """The query strings queries.find() sends, caught on their way to the engine."""

    calls: list[Any]


def capture(db: Any) -> tuple[Captured, Callable[[], None]]:
    """Wraps the engine class's run_querystring (PostgresEngine has slots: not the instance's)."""
    captured = Captured([])
    cls = type(db)
    original = cls.run_querystring

    async def run_querystring(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
        captured.calls.append(querystring)
        return await original(self, querystring, *args, **kwargs)

    cls.run_querystring = run_querystring

    def restore() -> None:
        cls.run_querystring = original

    return captured, restore


async def explain(db: Any, querystring: Any) -> list[str]:
    """The plan of a query's first run: on PostgreSQL, planned for its own parameters."""
    from piccolo.querystring import QueryString

    from council.db import is_sqlite

    if is_sqlite():
        rows = await db.run_querystring(QueryString("EXPLAIN QUERY PLAN {}", querystring))
        return [str(r["detail"]) for r in rows]
    rows = await db.run_querystring(QueryString("EXPLAIN ANALYZE {}", querystring))
    return [str(next(iter(r.values()))) for r in rows]


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool | int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


async def explain_cached(sql: str, args: list[Any]) -> list[str]:
    """The plan PostgreSQL runs once a statement has been prepared and run a few times, as
    asyncpg does in the server (its statement cache): after five runs PostgreSQL may keep
    a generic plan, made without knowing the search pattern."""
    import asyncpg

    from council.settings import database_url_from_env

    connection = await asyncpg.connect(database_url_from_env())
    try:
        await connection.execute(f"PREPARE bench_find AS {sql}")
        execute = (
            f"EXECUTE bench_find({', '.join(_sql_literal(a) for a in args)})"
            if args
            else "EXECUTE bench_find"
        )
        for _ in range(6):
            await connection.execute(execute)
        rows = await connection.fetch(f"EXPLAIN ANALYZE {execute}")
        return [str(r[0]) for r in rows]
    finally:
        await connection.close()


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    await call()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return times


async def time_find(words: list[str], repeat: int) -> dict[str, Any]:
    from piccolo.engine.postgres import PostgresEngine

    from council.db import PooledSQLiteEngine, engine
    from council.proposals import queries
    from tests.bench.stats import percentile

    db: Any = engine()
    # Connections kept open as the server keeps them (council/app.py, start_pool).
    if isinstance(db, PooledSQLiteEngine):
        db.pool_size = 2
    elif isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=2)
    out: dict[str, Any] = {"find": {}, "plans": {}}
    try:
        for word in ["", *words]:
            rows, total = await queries.find(None, q=word, limit=20)
            times = await timed(functools.partial(queries.find, None, q=word, limit=20), repeat)
            out["find"][word] = {
                "n": repeat,
                "p50": percentile(times, 50),
                "p95": percentile(times, 95),
                "rows": len(rows),
                "total": total,
            }
        for word in ["", *words]:
            captured, restore = capture(db)
            try:
                await queries.find(None, q=word, limit=20)
            finally:
                restore()
            plans = []
            for querystring in captured.calls:
                sql, args = querystring.compile_string(engine_type=db.engine_type)
                plan = {"sql": sql, "plan": await explain(db, querystring)}
                if isinstance(db, PostgresEngine):
                    plan["cached"] = await explain_cached(sql, list(args))
                plans.append(plan)
            out["plans"][word] = plans
    finally:
        if isinstance(db, PostgresEngine):
            await db.close_connection_pool()
        elif isinstance(db, PooledSQLiteEngine):
            await db.close_pool()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.proposals")
    sub = parser.add_subparsers(dest="command", required=True)
    seed_parser = sub.add_parser("seed", help="insert COUNT public proposals")
    seed_parser.add_argument("count", type=int)
    seed_parser.add_argument("--word", action="append", default=[], help="count the matches of WORD")
    time_parser = sub.add_parser("time", help="time queries.find() with each WORD, and the list without")
    time_parser.add_argument("words", nargs="+")
    time_parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    if args.command == "seed":
        result = asyncio.run(seed(args.count, args.word))
    else:
        result = asyncio.run(time_find(args.words, args.repeat))
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
