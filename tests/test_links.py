"""Every link a person meets on the demo community's pages leads somewhere she may go: a
crawl of the site as a visitor and as each kind of user, through the links of each page,
finds no error page (no 5xx, and no 4xx behind a link the site itself showed her)."""

from __future__ import annotations

import re
from collections import deque
from typing import Any
from urllib.parse import urljoin, urlsplit

from tests.factories import login

PAGES_PER_PERSON = 150
PEOPLE = (None, "resident1", "member1", "host", "secretary", "supervisor1", "gridleader", "staff", "admin")
SKIP = ("/logout", "/static/", "/media/", "/api/", ".zip", ".csv", "/audit?verify")
LINK = re.compile(r'(?<![-\w])href="([^"#]+)"')


async def _crawl(client: Any, who: str | None) -> tuple[int, list[str]]:
    seen: set[str] = set()
    queue: deque[tuple[str, str]] = deque([("/", "")])
    broken: list[str] = []
    while queue and len(seen) < PAGES_PER_PERSON:
        path, came_from = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = await client.get(path, follow_redirects=True)
        if response.status_code >= 400:
            broken.append(f"{who or 'visitor'}: {path} ({response.status_code}), linked from {came_from}")
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for href in LINK.findall(response.text):
            target = urlsplit(urljoin(f"http://testserver.local{path}", href.replace("&amp;", "&")))
            if target.netloc != "testserver.local":
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if not any(s in link for s in SKIP) and link not in seen:
                queue.append((link, path))
    return len(seen), broken


async def test_no_link_leads_to_an_error(client: Any) -> None:
    from council.demo import load_demo

    await load_demo(only_if_empty=False)
    broken: list[str] = []
    for who in PEOPLE:
        client.cookies.clear()
        if who:
            assert (await login(client, who, "council-demo")).status_code == 303, who
        pages, found = await _crawl(client, who)
        assert pages > 10, f"{who}: only {pages} pages reached"
        broken += found
    assert not broken, "\n".join(broken)
