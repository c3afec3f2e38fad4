"""The demo community's proposals, one or more in every state, written as residents write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from council.accounts import login
from council.accounts.principal import Principal
from council.accounts.tables import User
from council.proposals import comments, orders, service, triage
from council.proposals.rules import Rules, set_rules
from council.proposals.tables import Category, Proposal, ProposalKind

TEXTS = [
    (
        "小区停车位严重不足",
        "晚上七点以后车位全满，很多车停在消防通道上。建议把东侧闲置绿地改成生态停车位，并安排夜间巡查。",
        Category.parking,
        ProposalKind.matter,
    ),
    (
        "加装电梯的费用怎么分摊",
        "3栋1单元有12户同意加装电梯，但一楼二楼住户担心采光和噪音。希望议事会组织大家商量分摊办法。",
        Category.repairs,
        ProposalKind.matter,
    ),
    (
        "建一个老年食堂",
        "社区六十岁以上的老人越来越多，很多独居老人做饭不方便。希望利用活动中心一楼开办老年助餐点。",
        Category.care,
        ProposalKind.matter,
    ),
    (
        "垃圾分类亭异味大",
        "5栋旁边的垃圾分类亭夏天气味很重，清运不及时。建议增加清运次数，并加装遮阳棚。",
        Category.environment,
        ProposalKind.matter,
    ),
    (
        "单元门禁经常坏",
        "2栋2单元门禁一个月坏了三次，外卖和陌生人随意进出，存在安全隐患。",
        Category.safety,
        ProposalKind.matter,
    ),
    (
        "楼道堆放杂物",
        "4栋各楼层楼道里堆着纸箱和旧家具，影响通行，也有火灾隐患。",
        Category.safety,
        ProposalKind.matter,
    ),
    (
        "3栋2单元楼道灯不亮",
        "三楼到五楼的声控灯坏了一个星期，晚上老人上下楼很危险，麻烦帮忙换一下。",
        Category.repairs,
        ProposalKind.small_wish,
    ),
    (
        "帮独居老人取药",
        "我母亲腿脚不便，每月需要去社区医院取一次降压药，希望有志愿者帮忙代取。",
        Category.care,
        ProposalKind.small_wish,
    ),
    (
        "健身器材螺丝松了",
        "中心花园的漫步机把手松动，怕老人摔倒，请帮忙紧一下螺丝。",
        Category.repairs,
        ProposalKind.small_wish,
    ),
    (
        "小广场晚上跳舞音响太吵",
        "希望晚上九点以后把音量调小，住在旁边的老人和学生休息不好。",
        Category.environment,
        ProposalKind.small_wish,
    ),
    ("停车难", "车位不够，经常找不到地方停车，建议想办法。", Category.parking, ProposalKind.matter),
    (
        "给快递车划个临时停靠区",
        "快递车每天停在小区门口堵路，建议在门卫旁划一个临时停靠区。",
        Category.parking,
        ProposalKind.matter,
    ),
]


async def _who(username: str) -> Principal:
    row = await User.select(User.id).where(User.username == username).first()
    assert row is not None, username
    principal = await login.load_principal(row["id"])
    assert principal is not None
    return principal


async def load(community: dict[str, Any], staff: Principal) -> None:
    await set_rules(staff, community["id"], Rules("resident", "count", 5, 7))
    residents = [await _who(f"resident{i}") for i in range(1, 6)]
    members = [await _who(f"member{i}") for i in range(1, 9)]
    host = await _who("host")
    signers = residents + members[2:]

    async def make(i: int, author: Principal, submit: bool = True) -> int:
        title, text, category, kind = TEXTS[i]
        return await service.create(
            author,
            title=title,
            description=text,
            scope_id=community["id"],
            category=category,
            kind=kind,
            submit=submit,
        )

    async def sign(pid: int, n: int, skip: Principal) -> None:
        for person in [p for p in signers if p.id != skip.id][:n]:
            await service.cosign(person, pid, show_name=person.id % 3 == 0)

    parking = await make(0, residents[0])
    await sign(parking, 6, residents[0])
    await comments.add_comment(members[0], parking, "东侧绿地改停车位需要业委会同意，建议听证会上一起讨论。")
    await comments.add_comment(residents[2], parking, "支持！我家楼下天天有车堵消防通道。")
    await triage.accept(members[0], parking, "列入下一次议事会议程")

    elevator = await make(1, residents[1])
    await sign(elevator, 5, residents[1])
    await triage.accept(members[1], elevator, "先开屋场恳谈会听取一二楼住户意见")

    canteen = await make(2, residents[2])
    await sign(canteen, 3, residents[2])
    spam = await comments.add_comment(residents[3], canteen, "加我微信 13800000000 代办一切")
    await comments.hide_comment(members[0], spam, "含有广告和个人联系方式")

    garbage = await make(3, residents[3])
    await sign(garbage, 5, residents[3])
    # Qualified but not answered in time: it shows on the overdue list.
    await Proposal.update({Proposal.response_due_at: datetime.now(UTC) - timedelta(days=2)}).where(
        Proposal.id == garbage
    )

    await make(4, residents[4])
    await make(5, residents[0], submit=False)

    light = await make(6, residents[1])
    await triage.dispatch(members[2], light, members[3].id, days=3)
    await orders.take(members[3], light)
    await orders.add_note(members[3], light, "已联系物业电工，灯泡已买好。")
    await orders.finish(members[3], light, "三楼到五楼的声控灯都换好了。")
    await orders.confirm(residents[1], light, 5, "当天就修好了，谢谢！")

    medicine = await make(7, residents[2])
    await triage.dispatch(members[2], medicine, members[4].id, days=30)
    await orders.take(members[4], medicine)
    await orders.add_note(members[4], medicine, "已和老人约好每月5号上门取药单。")

    gym = await make(8, residents[3])
    await triage.dispatch(members[2], gym, members[5].id, days=2)
    await orders.take(members[5], gym)
    await orders.finish(members[5], gym, "螺丝已拧紧，并贴了安全提示。")

    dance = await make(9, residents[4])
    await triage.dispatch(host, dance, members[6].id, days=5)

    dup = await make(10, residents[4])
    await service.cosign(residents[3], dup)
    await triage.merge(members[0], dup, parking, "与“小区停车位严重不足”是同一件事")

    courier = await make(11, residents[3])
    await triage.reject(members[1], courier, "门口道路属于市政管理，已转交街道城管科处理")
