"""A hearing in real browsers: the staff schedules it (through the API, after a look at the
form), the host runs it from the console on a desktop, a resident follows it on her phone.
She checks in and asks for the floor, and the host's console shows her without a reload;
a neighbour the host marks present sees herself checked in without a reload; the host
gives the first one the floor, and her phone shows the countdown without a reload. Both
pages follow the hearing's event stream through static/js/hearing-live.js.
Screenshots go to tests/e2e/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import api_session, log_in, ok

Page = Any
NewPage = Callable[..., Page]
Shoot = Callable[[Page, str], None]
TITLE = "东门充电棚选址屋场恳谈会"


@pytest.fixture(scope="module")
def hearing(server: str) -> Iterator[dict[str, Any]]:
    """A hearing of the demo community, scheduled by the staff, hosted by `host`."""
    staff = api_session(server, "staff")
    try:
        me = ok(staff.get("/api/v1/me"))
        community = me["roles"][0]["node_id"]
        people = {}
        for name in ("host", "secretary"):
            client = api_session(server, name)
            try:
                people[name] = ok(client.get("/api/v1/me"))["id"]
            finally:
                client.close()
        body = {
            "kind": "doorstep_talk",
            "title": TITLE,
            "description": "东门空地建一个带顶棚的电动车充电区：放在哪里，怎么管。",
            "scope_id": community,
            "starts_at": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
            "place": "东门广场",
            "online": True,
            "host_id": people["host"],
            "secretary_id": people["secretary"],
            "speaking_seconds": 120,
            "items": [
                {"title": "充电棚放在哪里", "minutes_budget": 20},
                {"title": "收费和管理", "minutes_budget": 15},
            ],
        }
        created = ok(staff.post("/api/v1/hearings", json=body), 201)
        yield {"id": created["id"], "staff": staff, **people}
    finally:
        staff.close()


def _marked(page: Page) -> None:
    """Marks the page's window: the mark survives only if the page is never reloaded."""
    page.evaluate("window.__notReloaded = true")


def _not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.__notReloaded === true"))


def test_the_schedule_form(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    log_in(page, "staff", "/hearings/new")
    assert page.url.endswith("/hearings/new")
    assert page.locator("select[name=item-4-proposal]").count() == 1  # five slots without JS
    page.fill("#title", "加装电梯议事会")
    shoot(page, "hearing-new")


def test_a_resident_asks_for_the_floor_and_gets_it_live(
    new_page: NewPage, shoot: Shoot, server: str, hearing: dict[str, Any]
) -> None:
    hearing_id = hearing["id"]
    errors: list[str] = []
    host = new_page()
    host.on("pageerror", lambda error: errors.append(f"console: {error}"))
    log_in(host, "host", f"/hearings/{hearing_id}/console")
    assert host.url.endswith(f"/hearings/{hearing_id}/console")
    host.locator(".qr svg, .qr img").first.wait_for(state="visible")
    _marked(host)
    host.get_by_role("button", name=re.compile("Start the hearing|开始")).click()
    host.locator(".console-bar [data-live=status].status-running").wait_for()
    first_item = host.locator(".console-agenda > li").first
    first_item.get_by_role("button").click()
    host.locator("section.open-item").wait_for(state="visible")
    assert _not_reloaded(host)

    phone = new_page(phone=True)
    phone.on("pageerror", lambda error: errors.append(f"live page: {error}"))
    log_in(phone, "resident1", f"/hearings/{hearing_id}")
    with phone.expect_navigation():
        phone.locator("section.you form button").click()
    assert phone.url.endswith(f"/hearings/{hearing_id}/live")
    ask = phone.locator("form[data-api$='/floor/request'] button")
    ask.wait_for(state="visible")
    _marked(phone)
    ask.click()
    phone.locator("form[data-api$='/floor/withdraw'] button").wait_for(state="visible")
    assert phone.locator("[data-live=position]").is_visible()
    shoot(phone, "hearing-live-waiting")

    # the host's console shows her in the queue without a reload
    state = ok(httpx.get(f"{server}/api/v1/hearings/{hearing_id}/live"))
    name = state["queue"][0]["name"]
    waiting = host.locator(".console-queue > li", has_text=name)
    waiting.wait_for(state="visible")
    assert host.locator(".attendees > li", has_text=name).count() == 1
    assert _not_reloaded(host)
    shoot(host, "hearing-console-queue")

    # a neighbour in the room who did not check in: the host marks her present, and her
    # live page turns to "checked in" without a reload
    neighbour = new_page(phone=True)
    neighbour.on("pageerror", lambda error: errors.append(f"neighbour's page: {error}"))
    log_in(neighbour, "resident2", f"/hearings/{hearing_id}/live")
    check_in = neighbour.locator(f"form[action='/hearings/{hearing_id}/check-in']")
    check_in.wait_for(state="visible")
    _marked(neighbour)
    resident = neighbour.evaluate(
        "JSON.parse(document.getElementById('hearing-data').textContent).me.resident"
    )
    assert isinstance(resident, int)
    host_api = api_session(server, "host")
    try:
        ok(host_api.post(f"/api/v1/hearings/{hearing_id}/present", json={"resident_id": resident}))
    finally:
        host_api.close()
    neighbour.locator("form[data-api$='/floor/request'] button").wait_for(state="visible")
    assert check_in.is_hidden() and neighbour.locator("form.leave").is_visible()
    assert _not_reloaded(neighbour)

    # the host gives her the floor: her phone shows the countdown without a reload
    waiting.get_by_role("button", name=re.compile("Give the floor|发言")).click()
    phone.locator(".speaker-card").wait_for(state="visible")
    phone.locator(".you-speak").wait_for(state="visible")
    countdown = phone.locator(".speaker-card [data-countdown]")
    phone.wait_for_function(
        "el => /^[0-9]+:[0-5][0-9]$/.test(el.textContent.trim())", arg=countdown.element_handle()
    )
    first = countdown.inner_text()
    phone.wait_for_timeout(1500)
    assert countdown.inner_text() != first, "the countdown does not run"
    assert int(first.split(":")[0]) * 60 + int(first.split(":")[1]) <= 120
    assert _not_reloaded(phone)
    assert phone.locator("[data-live=speaker-name]").first.inner_text() == name
    shoot(phone, "hearing-live")
    host.locator(".open-item .speaker-card").wait_for(state="visible")
    shoot(host, "hearing-console")

    # the host closes the item with a consensus and ends the hearing, all without reloads
    host.get_by_role("button", name=re.compile("Next speaker|下一位")).click()
    host.locator(".open-item .speaker-card").wait_for(state="hidden")
    host.fill("#outcome-text", "充电棚建在东门广场北侧，远离住宅楼。")
    host.locator("form.close-item button[type=submit]").click()
    host.locator("section.open-item").wait_for(state="hidden")
    phone.locator("[data-live=item-title]", has_text=re.compile("No item|没有")).first.wait_for()
    host.once("dialog", lambda dialog: dialog.accept())
    host.locator("form[action$='/console/end'] button").click()
    host.locator(".console-bar [data-live=status].status-ended").wait_for()
    assert _not_reloaded(host) and _not_reloaded(phone)
    assert not errors, errors

    # the secretary writes down what was said, until the minutes are sealed
    secretary = new_page()
    log_in(secretary, "secretary", f"/hearings/{hearing_id}/record")
    secretary.fill("#st-speaker", name)
    secretary.fill("#st-summary", "建议放在北侧，晚上有路灯，离楼远一些。")
    with secretary.expect_navigation():
        secretary.locator("#statement form button[type=submit]").click()
    assert "建议放在北侧" in secretary.locator(".edit-statement textarea").first.input_value()
    shoot(secretary, "hearing-record")

    # the public page of the finished hearing
    public = new_page(phone=True)
    public.goto(f"/hearings/{hearing_id}")
    assert "充电棚建在东门广场北侧" in public.inner_text("main")
    shoot(public, "hearing-public")
