"""A secret ballot in a real browser: staff creates it through the API, three supervisors
make the key with council.ballots.trustee_client, then a resident on a phone locks her
choices with ballot-page.js and vote.js, audits one ballot, casts another, sees her
receipt and finds it on the board. The server must accept the ballot made in JavaScript.
Screenshots of every step go to tests/e2e/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from council.ballots import trustee_client
from tests.e2e.conftest import api_session, log_in, ok

Page = Any
NewPage = Callable[..., Page]
Shoot = Callable[[Page, str], None]
SUPERVISORS = ("supervisor1", "supervisor2", "supervisor3")
TITLE = "小区东门是否加装电动车充电棚"


@pytest.fixture(scope="module")
def secret_ballot(server: str) -> Iterator[dict[str, Any]]:
    """An open secret ballot of the demo community, and the trustees' secrets for the count."""
    staff = api_session(server, "staff")
    trustees = {name: api_session(server, name) for name in SUPERVISORS}
    try:
        community = ok(staff.get("/api/v1/me"))["roles"][0]["node_id"]
        now = datetime.now(UTC)
        body = {
            "title": TITLE,
            "description": "东门空地建一个带顶棚的电动车充电区，费用从小区公共收益中支出。",
            "scope_id": community,
            "secrecy": "secret",
            "weight_basis": "resident",
            "questions": [
                {"text": "是否同意建充电棚？", "options": ["赞成", "反对", "弃权"], "min": 1, "max": 1},
                {
                    "text": "最需要的配套（最多选两项）",
                    "options": ["照明", "监控", "灭火器", "雨棚"],
                    "min": 0,
                    "max": 2,
                },
                {
                    "text": "充电棚的预算怎么花（共10万元）",
                    "options": ["快充桩", "防火墙", "遮雨棚"],
                    "min": 0,
                    "max": 3,
                    "costs": [6, 4, 5],
                    "budget": 10,
                },
            ],
            "rule": {
                "preset": "resident_meeting",
                "questions": [
                    {"method": "majority", "abstain_option": 2},
                    {"method": "top", "seats": 2},
                    {"method": "budget"},
                ],
            },
            "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + timedelta(days=3)).isoformat(),
            "trustee_ids": [ok(t.get("/api/v1/me"))["id"] for t in trustees.values()],
            "threshold": 2,
        }
        ballot_id = ok(staff.post("/api/v1/ballots", json=body), 201)["id"]
        ok(staff.post(f"/api/v1/ballots/{ballot_id}/setup"))
        url = f"/api/v1/ballots/{ballot_id}/trustee"
        secrets = {}
        for name, client in trustees.items():
            state = ok(client.get(url))
            secrets[name] = trustee_client.new_secrets(ballot_id, state["index"])
            ok(client.post(f"{url}/box-key", json={"box_key": secrets[name].box_public}))
        for name, client in trustees.items():
            ok(client.post(f"{url}/dealing", json=trustee_client.dealing(ok(client.get(url)), secrets[name])))
        for name, client in trustees.items():
            trustee_client.check_shares(ok(client.get(url)), secrets[name])
            ok(client.post(f"{url}/confirm"))
        ok(staff.post(f"/api/v1/ballots/{ballot_id}/open"))
        # resident2 gave resident1 a written proxy: resident1 votes for both
        resident = {
            name: ok(staff.get("/api/v1/users", params={"q": name}))["items"][0]["resident_id"]
            for name in ("resident1", "resident2")
        }
        proxy = {
            "delegator_id": resident["resident2"],
            "delegate_id": resident["resident1"],
            "consent": "委托书第1号",
        }
        ok(staff.post(f"/api/v1/ballots/{ballot_id}/proxies", json=proxy), 201)
        yield {"id": ballot_id, "staff": staff, "trustees": trustees, "secrets": secrets}
    finally:
        staff.close()
        for client in trustees.values():
            client.close()


def _visible(page: Page, selector: str) -> None:
    page.locator(selector).wait_for(state="visible")


def test_a_resident_audits_then_casts_a_secret_ballot_on_her_phone(
    new_page: NewPage, shoot: Shoot, server: str, secret_ballot: dict[str, Any]
) -> None:
    ballot_id = secret_ballot["id"]
    page = new_page(phone=True)
    log_in(page, "resident1", f"/ballots/{ballot_id}/vote")
    assert page.url.endswith(f"/ballots/{ballot_id}/vote")
    _visible(page, "#encrypt")  # the manifest is loaded: the page can lock the choices
    assert page.locator("#needs-js").is_hidden()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    shoot(page, "ballot-vote")

    # a choose-two question: a third choice is refused by the page itself
    page.locator("label.option", has_text="照明").click()
    page.locator("label.option", has_text="灭火器").click()
    assert page.locator("input[name=q1][value='1']").is_disabled()
    assert page.locator("input[name=q1][value='3']").is_disabled()
    assert page.locator("fieldset[data-index='1'] .counter").inner_text().strip()
    # a budget question: the running total, and what no longer fits is disabled
    page.locator("label.option", has_text="快充桩").click()
    assert page.locator("input[name=q2][value='2']").is_disabled()  # 6 + 5 > 10
    assert page.locator("input[name=q2][value='1']").is_enabled()  # 6 + 4 fits
    assert "6" in page.locator("fieldset[data-index='2'] .counter").inner_text()
    # nothing chosen on the first question: a plain message, nothing locked
    page.click("#encrypt")
    assert page.locator("#problem").is_visible() and "1" in page.inner_text("#problem")
    assert page.locator("#step-check").is_hidden()

    page.locator("label.option", has_text="赞成").click()
    page.click("#encrypt")
    _visible(page, "#step-check")
    audited_code = page.inner_text("#check-code").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", audited_code)
    assert page.inner_text("#check-short").strip() == f"{audited_code[:4]}-{audited_code[4:8]}"
    assert "赞成" in page.inner_text("#check-choices") and "灭火器" in page.inner_text("#check-choices")
    shoot(page, "ballot-check")

    # audit: the ballot and its randomness go on the board, and the page checks the board's copy
    page.click("#audit")
    _visible(page, "#step-audit")
    assert page.locator("#audit-verdict").get_attribute("class") == "notice"
    assert page.locator("#audit-rows tr").count() == 3
    assert "✗" not in page.inner_text("#audit-rows")
    shoot(page, "ballot-audit")

    # lock again (a new tracking code), then cast
    page.click("#relock")
    _visible(page, "#step-check")
    code = page.inner_text("#check-code").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", code) and code != audited_code
    page.click("#cast")
    _visible(page, "#step-receipt")
    assert page.inner_text("#receipt-code").strip() == code
    assert page.locator("#receipt-warning").is_hidden()
    head = page.inner_text("#receipt-head").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", head)
    page.locator("#last-ballots li").first.wait_for()  # the page asked /me for her last ballot
    assert code[:4] in page.inner_text("#last-ballots")
    shoot(page, "ballot-receipt")

    # the server took the ballot made in JavaScript: it is on the board, counted; the audited one is not
    with httpx.Client(base_url=server, timeout=30) as anyone:
        cast_entry = ok(anyone.get(f"/api/v1/ballots/{ballot_id}/track/{code}"))["entries"]
        audit_entry = ok(anyone.get(f"/api/v1/ballots/{ballot_id}/track/{audited_code}"))["entries"]
        board = ok(anyone.get(f"/api/v1/ballots/{ballot_id}/board"))
    assert [e["kind"] for e in cast_entry] == ["ballot"] and [e["kind"] for e in audit_entry] == ["audited"]
    assert board["head"] == head and [e["kind"] for e in board["entries"]] == ["audited", "ballot"]

    # then, by proxy, for her neighbour: another ballot under the neighbour's alias
    page.click("#again")
    _visible(page, "#ballot-form")
    page.locator("label.option", has=page.locator("input[name=for_alias][data-own=false]")).click()
    page.click("#encrypt")
    _visible(page, "#step-check")
    proxy_code = page.inner_text("#check-code").strip()
    page.click("#cast")
    _visible(page, "#step-receipt")
    assert page.inner_text("#receipt-code").strip() == proxy_code
    page.locator("#last-ballots li").nth(1).wait_for()  # her own last ballot and her neighbour's
    with httpx.Client(base_url=server, timeout=30) as anyone:
        board = ok(anyone.get(f"/api/v1/ballots/{ballot_id}/board"))
    last = board["entries"][-1]
    assert last["tracking_code"] == proxy_code and last["by_proxy"] is True
    assert last["payload"]["alias"] != board["entries"][1]["payload"]["alias"]

    # the receipt's link finds it on the board page
    with page.expect_navigation():
        page.click("#receipt-link")
    assert page.locator(".search-result .notice").count() == 1
    assert proxy_code in page.inner_text(".search-result")
    shoot(page, "ballot-board")


def test_the_ballot_pages_before_and_after_the_count(
    new_page: NewPage, shoot: Shoot, secret_ballot: dict[str, Any]
) -> None:
    ballot_id = secret_ballot["id"]
    page = new_page()
    page.goto("/ballots")
    assert TITLE in page.inner_text("main")
    shoot(page, "ballots")
    page.goto(f"/ballots/{ballot_id}")
    assert TITLE in page.inner_text("main h1")
    shoot(page, "ballot-show")

    staff, trustees, secrets = secret_ballot["staff"], secret_ballot["trustees"], secret_ballot["secrets"]
    ok(staff.post(f"/api/v1/ballots/{ballot_id}/close", json={"early": True}))
    for name in SUPERVISORS[:2]:
        url = f"/api/v1/ballots/{ballot_id}/trustee"
        ok(
            trustees[name].post(
                f"{url}/shares", json=trustee_client.decryption(ok(trustees[name].get(url)), secrets[name])
            ),
            201,
        )

    page.goto(f"/ballots/{ballot_id}")
    result = page.locator("#result")
    assert result.count() == 1
    assert page.locator(f"a[href='/api/v1/ballots/{ballot_id}/record.zip']").count() == 1
    shoot(page, "ballot-result")
    page.goto(f"/ballots/{ballot_id}/board")
    assert page.locator("tr.kind-result").count() == 1
    shoot(page, "ballot-board-tallied")

    phone = new_page(phone=True)
    log_in(phone, "resident2", f"/ballots/{ballot_id}/vote")
    assert phone.locator("#ballot-form").count() == 0  # closed: no form, a plain statement
    shoot(phone, "ballot-vote-closed")
