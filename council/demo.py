"""The demo community: 幸福里社区, two grids, six buildings, ~200 households, ~400 residents,
and accounts for every role. Later features add its history here."""

from __future__ import annotations

import csv
import io
import random

from council.accounts import login
from council.accounts import service as accounts
from council.accounts.principal import Grant, Principal
from council.accounts.tables import Role, User
from council.ballots import demo as ballots_demo
from council.community import roster_csv
from council.community import service as roster
from council.community.tables import Node, NodeKind, Resident
from council.hearings import demo as hearings_demo
from council.proposals import demo as proposals_demo
from council.settings import Settings

DEMO_PASSWORD = "council-demo"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强玉兰淑珍德明红梅海燕晓东丽华春生文杰"
)

OPERATOR = Principal(
    id=0,
    username="demo",
    display_name="demo",
    locale="",
    resident_id=None,
    grants=(Grant(Role.admin, 0, "/", "*"),),
)


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return rng.choice(SURNAMES) + given


def roster_csv_text(rng: random.Random) -> str:
    """Residents of the demo buildings, as a staff member would upload them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(roster_csv.COLUMNS)
    number = 0
    for building in range(1, 7):
        grid = "第一网格" if building <= 3 else "第二网格"
        for unit in (1, 2):
            for floor in range(1, 7):
                for room in (1, 2, 3):
                    if floor == 1 and room == 3:
                        continue  # the ground floor has two flats and the stairwell
                    people = rng.choice((1, 2, 2, 2, 3))
                    for person in range(people):
                        number += 1
                        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
                        writer.writerow(
                            [
                                f"R{number:04d}",
                                _name(rng),
                                phone if rng.random() < 0.9 else "",
                                grid,
                                f"{building}栋",
                                f"{unit}单元",
                                f"{floor}0{room}",
                                "是" if person == 0 else "否",
                            ]
                        )
    return out.getvalue()


async def load_demo(only_if_empty: bool = True) -> list[tuple[str, str, str]]:
    if only_if_empty and await Node.exists().where(Node.kind == NodeKind.community.value):
        return []
    settings = Settings.from_env()
    rng = random.Random(20261123)
    community = await roster.add_node(OPERATOR, name="幸福里社区", kind=NodeKind.community, parent_id=None)
    grids = {}
    for grid_name in ("第一网格", "第二网格"):
        grids[grid_name] = await roster.add_node(
            OPERATOR, name=grid_name, kind=NodeKind.grid, parent_id=community["id"]
        )
    buildings = {}
    for building in range(1, 7):
        grid = grids["第一网格" if building <= 3 else "第二网格"]
        buildings[building] = await roster.add_node(
            OPERATOR, name=f"{building}栋", kind=NodeKind.building, parent_id=grid["id"]
        )
        for unit in (1, 2):
            await roster.add_node(
                OPERATOR, name=f"{unit}单元", kind=NodeKind.unit, parent_id=buildings[building]["id"]
            )
    result = await roster_csv.import_residents(
        OPERATOR, community["id"], roster_csv_text(rng).encode("utf-8"), "demo.csv"
    )
    if not result.ok:
        raise RuntimeError(f"demo roster did not import: {result.problems[:3]}")

    residents = await Resident.select(Resident.id, Resident.name).order_by(Resident.id)
    c = community["id"]
    people: list[tuple[str, str, list[tuple[Role, int]], int | None]] = [
        ("admin", "系统管理员", [(Role.admin, c)], None),
        ("staff", "社区工作人员 刘敏", [(Role.staff, c)], None),
        (
            "host",
            residents[0]["name"],
            [(Role.host, c), (Role.council_member, c), (Role.resident, c)],
            residents[0]["id"],
        ),
        ("secretary", residents[3]["name"], [(Role.secretary, c), (Role.resident, c)], residents[3]["id"]),
    ]
    for i in range(3):
        r = residents[10 + i * 7]
        people.append((f"supervisor{i + 1}", r["name"], [(Role.supervisor, c), (Role.resident, c)], r["id"]))
    for i in range(8):
        r = residents[40 + i * 41]
        people.append((f"member{i + 1}", r["name"], [(Role.council_member, c), (Role.resident, c)], r["id"]))
    for i in range(5):
        r = residents[60 + i * 53]
        people.append((f"resident{i + 1}", r["name"], [(Role.resident, c)], r["id"]))
    grid_leader = residents[25]
    people.append(
        (
            "gridleader",
            grid_leader["name"],
            [(Role.staff, grids["第一网格"]["id"]), (Role.resident, c)],
            grid_leader["id"],
        )
    )

    logins = []
    for username, name, grants, resident_id in people:
        await accounts.create_user_with_password(
            settings,
            OPERATOR.actor,
            username=username,
            display_name=name,
            password=DEMO_PASSWORD,
            grants=grants,
            resident_id=resident_id,
        )
        logins.append((username, DEMO_PASSWORD, ", ".join(sorted({g[0].value for g in grants}))))
    staff_row = await User.select(User.id).where(User.username == "staff").first()
    staff = await login.load_principal(staff_row["id"]) if staff_row else None
    assert staff is not None
    await proposals_demo.load(community, staff)
    await ballots_demo.load(community["id"], settings.data_dir / "demo-trustees", DEMO_PASSWORD)
    await hearings_demo.load_demo_hearings(community, settings.timezone)
    return logins
