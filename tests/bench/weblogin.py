"""Login cost, part two: the whole POST /login over HTTP, as a browser does it."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field

import httpx

from tests.bench.stats import percentile

DEMO_PASSWORD = "council-demo"
_CSRF_FIELD = re.compile(r'name="_csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="_csrf_token"')


@dataclass
class Session:
    cookies: dict[str, str]

    @property
    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def login(base: str, username: str, password: str = DEMO_PASSWORD) -> tuple[Session, float]:
    """Logs in with a fresh client; returns the cookies and the seconds the POST took."""
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as client:
        form = client.get("/login")
        form.raise_for_status()
        match = _CSRF_FIELD.search(form.text)
        if not match:
            raise RuntimeError("no _csrf_token field on GET /login")
        token = html.unescape(match.group(1) or match.group(2))
        start = time.perf_counter()
        response = client.post(
            "/login", data={"username": username, "password": password, "_csrf_token": token, "next": "/"}
        )
        elapsed = time.perf_counter() - start
        if response.status_code != 303 or "council_session" not in client.cookies:
            raise RuntimeError(f"POST /login answered {response.status_code}: {response.text[:300]}")
        return Session(dict(client.cookies.items())), elapsed


@dataclass
class LoginFigures:
    count: int
    p50: float
    p95: float
    errors: int
    error_examples: list[str] = field(default_factory=list)


def measure(base: str, username: str, count: int) -> LoginFigures:
    login(base, username)  # warm-up: templates, the hasher, connections
    times: list[float] = []
    errors: list[str] = []
    for _ in range(count):
        try:
            _, elapsed = login(base, username)
        except (RuntimeError, httpx.HTTPError) as exc:
            errors.append(str(exc)[:200])
            continue
        times.append(elapsed)
    return LoginFigures(count, percentile(times, 50), percentile(times, 95), len(errors), errors[:3])
