"""Browser tests: the real server in a subprocess, driven by Debian's Chromium.

One server per test session, on a free port, with its own temporary data directory and
SQLite database holding the demo community (all passwords `council-demo`). Each test
opens fresh browser contexts, so cookies (session, language) never leak between tests.

Chromium is Debian's (`apt-get install chromium`, done by `scripts/bootstrap.sh test`);
set COUNCIL_CHROMIUM to use another binary. Without it the tests skip, except in CI
(CI=true), where that is a failure. Screenshots go to tests/e2e/screenshots/ (ignored by git).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = os.environ.get("COUNCIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_DB = os.environ.get("COUNCIL_TEST_DB", "sqlite")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PASSWORD = "council-demo"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Language and clock as on a resident's phone (headless Chromium's own widgets, such as the
# file picker's "Choose File", stay English whatever the locale).
LOCALE = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
STARTUP_SECONDS = 60
MAX_SHOT = 3000  # pixels: screenshots of long pages stop there


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The server under test always has its own SQLite database, so the browser tests
    # belong to one pass of the suite only: the SQLite one.
    if TEST_DB == "sqlite":
        return
    skip = pytest.mark.skip(
        reason="browser tests run in the SQLite pass only (their server has its own database)"
    )
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # tests/conftest.py points these at its own template database: use ours instead.
    for name in ("COUNCIL_DATABASE_URL", "COUNCIL_REDIS_URL", "COUNCIL_SECRET_KEY"):
        env.pop(name, None)
    env.update(
        PICCOLO_CONF="council.piccolo_conf",
        COUNCIL_DATA_DIR=str(data_dir),
        COUNCIL_DATABASE_URL=f"sqlite:///{data_dir / 'council.sqlite3'}",
        COUNCIL_BASE_URL="http://127.0.0.1",
        # Many logins from one address within a minute: not what this suite tests.
        COUNCIL_LOGIN_RATE_PER_MINUTE="1000",
        PYTHONUNBUFFERED="1",
    )
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # The server was started in its own process group: end that group (its workers).
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """Base URL of a running council server with the demo community loaded."""
    work = Path(tempfile.mkdtemp(prefix="council-e2e-"))
    data_dir = work / "data"
    env = _server_env(data_dir)
    cli = [sys.executable, "-m", "council.cli"]
    demo = subprocess.run(
        [*cli, "demo", "--if-empty"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if demo.returncode != 0:
        pytest.fail(f"`council demo` failed ({demo.returncode}):\n{demo.stdout}\n{demo.stderr}")
    port = _free_port()
    log_path = work / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server stopped at start ({process.returncode}):\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the server did not answer /healthz in {STARTUP_SECONDS} s:\n{log_path.read_text()}"
                )
            time.sleep(0.1)
        yield base
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope, not session: while Playwright's sync API is open, its event loop counts as
    # running, and the async tests collected after tests/e2e (tests/test_*.py) could not start theirs.
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium (or set COUNCIL_CHROMIUM)"
        if IN_CI:
            pytest.fail(f"CI needs the browser tests: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Any, server: str) -> Iterator[Callable[..., Any]]:
    """Opens a page in a fresh context (own cookies); phone=True for a 390x844 touch phone."""
    contexts: list[Any] = []

    def open_page(phone: bool = False) -> Any:
        if phone:
            context = browser.new_context(
                base_url=server,
                viewport=PHONE,
                is_mobile=True,
                has_touch=True,
                device_scale_factor=2,
                **LOCALE,
            )
        else:
            context = browser.new_context(base_url=server, viewport=DESKTOP, **LOCALE)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def log_in(page: Any, username: str, next_path: str = "/") -> None:
    """Logs in through the form, as a person would."""
    page.goto(f"/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "/login" not in page.url, f"login as {username} failed: {page.inner_text('main')}"


_LAYOUT_JS = """() => {
  const doc = document.documentElement;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const wide = [];
  for (const el of document.querySelectorAll('main *')) {
    const r = el.getBoundingClientRect();
    if (r.right > doc.clientWidth + 1 && wide.length < 5) wide.push(name(el));
  }
  const small = [];
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.height < 40 && small.length < 8) small.push(name(el) + ' ' + Math.round(r.height) + 'px '
      + (el.innerText || el.value || '').trim().slice(0, 12));
  }
  return {scrollWidth: doc.scrollWidth, scrollHeight: doc.scrollHeight, clientWidth: doc.clientWidth,
          overflowing: wide,
          small_targets: small, lang: doc.lang, title: document.title};
}"""


@pytest.fixture(scope="session")
def layout_report() -> Iterator[dict[str, Any]]:
    """What each screenshot's page measured; written next to the screenshots."""
    report: dict[str, Any] = {}
    yield report
    if report:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "layout.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True)
        )


@pytest.fixture
def shoot(layout_report: dict[str, Any]) -> Callable[[Any, str], None]:
    """Saves <name>-desktop.png and <name>-phone.png of the page as it is now."""

    def take(page: Any, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        original = page.viewport_size
        try:
            for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
                page.set_viewport_size(size)
                layout = page.evaluate(_LAYOUT_JS)
                layout_report[f"{name}-{label}"] = layout
                # The whole page, but not all fifty rows of a long list: that costs seconds.
                clip = {
                    "x": 0,
                    "y": 0,
                    "width": layout["scrollWidth"],
                    "height": min(layout["scrollHeight"], MAX_SHOT),
                }
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True, clip=clip)
        finally:
            page.set_viewport_size(original)

    return take


def api_session(server: str, username: str) -> httpx.Client:
    """A logged-in session as the browser has one: session cookie, CSRF header from its cookie."""
    client = httpx.Client(base_url=server, timeout=30)
    page = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF field on the login page"
    done = client.post(
        "/login", data={"username": username, "password": PASSWORD, "_csrf_token": token.group(1)}
    )
    assert done.status_code == 303, f"login as {username}: {done.status_code}"
    client.headers["x-csrftoken"] = client.cookies["council_csrf"]
    return client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response.json() if response.content else None
