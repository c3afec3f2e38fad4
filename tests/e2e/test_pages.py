"""The pages in a real browser: log in, walk the roster, add a resident, refusals,
a phone-sized screen, the keyboard alone, the language switch; and screenshots of each page."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import PASSWORD, log_in

Page = Any
NewPage = Callable[..., Page]
Shoot = Callable[[Page, str], None]


def _open_tile(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.locator("ul.tiles a", has_text=name).first.click()


def _walk_to_household(page: Page) -> None:
    """Community → grid → building → unit → household, by the links on each page."""
    page.goto("/roster")
    assert re.search(r"/roster/nodes/\d+$", page.url), page.url
    assert "幸福里社区" in page.inner_text("h1")
    for name in ("第一网格", "1栋", "1单元", "101"):
        _open_tile(page, name)
        assert name in page.inner_text("h1")
    assert page.locator(".trail a").count() == 5  # Roster › community › grid › building › unit


def test_staff_logs_in_with_the_form(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    shoot(page, "login")
    page.fill("#username", "staff")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.url.endswith("/")
    assert "刘敏" in page.inner_text("main")
    assert page.locator("a[href='/roster']").count() >= 1
    assert page.locator("form[action='/logout'] button").is_visible()
    shoot(page, "home-staff")


def test_wrong_password_says_so_and_keeps_the_username(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    page.goto("/login")
    page.fill("#username", "staff")
    page.fill("#password", "not-the-password")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.locator("[role=alert]").inner_text().strip()
    assert page.input_value("#username") == "staff"
    shoot(page, "login-error")


def test_staff_walks_the_roster_and_adds_a_resident(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    log_in(page, "staff")
    page.goto("/roster")
    shoot(page, "roster-community")
    _walk_to_household(page)
    household_url = page.url
    before = page.locator("main table tbody tr").count()
    shoot(page, "roster-household")

    code = f"E2E{secrets.token_hex(3).upper()}"
    page.fill("#r-code", code)
    page.fill("#r-name", "测试新居民")
    page.fill("#r-phone", "13800138000")
    with page.expect_navigation():
        page.locator("form[action='/roster/residents'] button[type=submit]").click()
    assert re.search(r"/roster/residents/\d+$", page.url), page.url
    assert "测试新居民" in page.inner_text("h1")
    assert code in page.inner_text("main")
    shoot(page, "roster-resident")

    page.goto(household_url)
    rows = page.locator("main table tbody tr")
    assert rows.count() == before + 1
    row = rows.filter(has_text=code)
    assert row.count() == 1
    assert "测试新居民" in row.inner_text()
    assert "13800138000" in row.inner_text()


def test_staff_adds_a_household_and_sees_it_empty(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    log_in(page, "staff")
    _walk_to_household(page)
    with page.expect_navigation():
        page.locator(".trail a").last.click()  # back up to the unit
    assert "1单元" in page.inner_text("h1")
    name = f"9{secrets.randbelow(100):02d}"
    page.fill("#child-name", name)
    with page.expect_navigation():
        page.locator("form[action='/roster/nodes'] button[type=submit]").click()
    assert "1单元" in page.inner_text("h1")
    _open_tile(page, name)
    assert name in page.inner_text("h1")
    assert page.locator("main table").count() == 0
    assert page.locator("main .empty").count() >= 1  # says there is nobody yet
    assert page.locator("#r-code").is_visible()  # and offers to add someone
    shoot(page, "roster-household-empty")


def test_resident_is_refused_the_roster_with_a_readable_page(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    log_in(page, "resident1")
    assert page.locator("a[href='/roster']").count() == 0  # not offered in the menu
    response = page.goto("/roster")
    assert response is not None and response.status == 403
    assert "text/html" in response.headers.get("content-type", "")
    heading = page.locator("main h1")
    assert heading.count() == 1 and heading.inner_text().strip()
    assert page.locator("main [role=alert]").count() == 1
    assert "403" in page.inner_text("main")
    assert page.locator("main a[href='/']").count() == 1  # a way back home
    shoot(page, "error-403")


def test_login_page_fits_a_phone(new_page: NewPage) -> None:
    page = new_page(phone=True)
    page.goto("/login")
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,"
        " inner: window.innerWidth})"
    )
    assert sizes["client"] == 390
    assert sizes["scroll"] <= sizes["client"], f"horizontal scroll on a phone: {sizes}"
    font = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 18, f"base font size {font}px"
    for selector in ("#username", "#password", "main button[type=submit]"):
        px = page.evaluate(
            f"() => parseFloat(getComputedStyle(document.querySelector({selector!r})).fontSize)"
        )
        assert px >= 18, f"{selector} font size {px}px"
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= 44, f"{selector} touch target {box}"
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"{selector} off screen: {box}"


def _focused(page: Page) -> dict[str, str]:
    return page.evaluate(
        "() => ({tag: document.activeElement.tagName.toLowerCase(), id: document.activeElement.id,"
        " cls: document.activeElement.className, href: document.activeElement.getAttribute('href') || ''})"
    )


def test_first_tab_reaches_the_skip_link(new_page: NewPage) -> None:
    page = new_page()
    page.goto("/")
    page.keyboard.press("Tab")
    focused = _focused(page)
    assert focused["cls"] == "skip" and focused["href"] == "#main", focused
    skip_box = page.locator("a.skip").bounding_box()
    assert skip_box is not None and skip_box["x"] >= 0, "the focused skip link must be visible"
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"


def test_login_with_the_keyboard_only(new_page: NewPage) -> None:
    page = new_page()
    page.goto("/")
    # From the top of the front page: skip link, into the main content, its "Log in" button.
    page.keyboard.press("Tab")
    assert _focused(page)["cls"] == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert _focused(page)["href"] == "/login", _focused(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # The login page puts the cursor in the username field.
    assert _focused(page)["id"] == "username"
    page.keyboard.type("staff")
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert not page.url.rstrip("/").endswith("/login"), page.inner_text("main")
    assert "刘敏" in page.inner_text("main")


def test_switching_to_english_changes_the_page_language(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.select_option("#lang-select", "en")
    with page.expect_navigation():
        page.locator("form.lang button[type=submit]").click()
    assert page.url.endswith("/login")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.input_value("#lang-select") == "en"
    assert "Log in" in page.inner_text("main h1")
    shoot(page, "login-en")


def test_screenshots_of_staff_pages(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    log_in(page, "staff")

    response = page.goto("/users")
    assert response is not None and response.ok
    assert page.locator("main table tbody tr").count() > 5
    shoot(page, "users")

    with page.expect_navigation():
        page.locator("main table a", has_text="supervisor1").click()
    assert re.search(r"/users/\d+$", page.url)
    assert "supervisor1" in page.inner_text("main h1")
    shoot(page, "user")

    response = page.goto("/users/new")
    assert response is not None and response.ok
    shoot(page, "user-new")

    response = page.goto("/account")
    assert response is not None and response.ok
    assert page.locator("#current_password").count() == 1
    shoot(page, "account")

    page.goto("/users?q=nobody-has-this-name")
    assert page.locator("main .empty").count() == 1
    shoot(page, "users-search-empty")

    page.goto("/roster")
    page.fill("#q", "没有这个人")
    with page.expect_navigation():
        page.locator("main form[role=search] button[type=submit]").click()
    assert page.locator("main table").count() == 0
    assert page.locator("main .empty").count() >= 1
    shoot(page, "roster-search-empty")

    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    assert "404" in page.inner_text("main")
    assert page.locator("main h1").inner_text().strip()
    shoot(page, "error-404")

    response = page.goto("/roster/residents/999999")
    assert response is not None and response.status == 404
    shoot(page, "error-404-resident")


def test_screenshot_of_the_audit_log_for_a_supervisor(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    log_in(page, "supervisor1")
    response = page.goto("/audit")
    assert response is not None and response.ok
    assert page.locator("main table tbody tr").count() > 0
    shoot(page, "audit")
    with page.expect_navigation():
        page.locator("main a[href='/audit?verify=true']").click()
    assert page.locator("main [role=status]").count() == 1  # the chain is intact
    shoot(page, "audit-verified")


BAD_CSV = (
    "code,name,phone,grid,building,unit,household,representative\n"
    "E2EDUP1,张三,13900000001,第一网格,99栋,1单元,101,是\n"
    "E2EDUP2,李四,13900000002,第一网格,1栋,1单元,101,否\n"
    "E2EDUP2,王五,13900000003,第一网格,1栋,1单元,102,否\n"
)


def test_import_shows_every_problem_of_a_bad_file(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    log_in(page, "staff")
    page.goto("/roster/import")
    shoot(page, "import")
    page.set_input_files(
        "#file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode("utf-8")}]
    )
    with page.expect_navigation() as navigation:
        page.locator("main form button[type=submit]").click()
    response = navigation.value
    assert response is not None and response.status == 422
    report = page.locator("main .problem")
    assert report.count() == 1
    rows = report.locator("tbody tr")
    assert rows.count() == 2, report.inner_text()
    text = report.inner_text()
    assert "99栋" in text and "E2EDUP2" in text
    shoot(page, "import-errors")


def test_a_resident_cosigns_and_a_member_reads_the_ledger(new_page: NewPage, shoot: Shoot) -> None:
    page = new_page()
    page.goto("/matters")
    assert "小区停车位严重不足" in page.inner_text("main")
    shoot(page, "matters-public")
    page.fill("#q", "停车")
    with page.expect_navigation():
        page.locator("main form.filters button[type=submit]").click()
    titles = page.locator("main .cards h2").all_inner_texts()
    assert titles and all("停车" in t for t in titles)

    log_in(page, "resident5")
    page.goto("/matters?q=老年食堂")
    with page.expect_navigation():
        page.locator("main .cards h2 a").first.click()
    assert "建一个老年食堂" in page.inner_text("main h1")
    shoot(page, "matter-collecting")
    before = page.inner_text("main h2:has-text('联名')")
    with page.expect_navigation():
        page.locator("main form[action$='/cosign'] button").click()
    assert page.locator("main .notice[role=status]").count() == 1
    assert page.inner_text("main h2:has-text('联名')") != before

    response = page.goto("/matters/new")
    assert response is not None and response.ok
    shoot(page, "matter-new")

    log_in(page, "member4")
    page.goto("/matters?kind=small_wish&status=dispatched")
    shoot(page, "matters-dispatched")
    page.goto("/orders")
    shoot(page, "orders")
    page.goto("/orders/ledger")
    assert "台账" in page.inner_text("main h1")
    shoot(page, "ledger")
    page.goto("/matters?q=楼道灯")
    with page.expect_navigation():
        page.locator("main .cards h2 a").first.click()
    assert "★★★★★" in page.inner_text("main")
    shoot(page, "matter-closed-out")
    page.goto("/inbox")
    shoot(page, "inbox")
