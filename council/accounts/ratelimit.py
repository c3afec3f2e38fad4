"""Login attempts per client address, counted in the shared store (memory, or Redis when
several processes serve), so guessing passwords across accounts is slowed too."""

from __future__ import annotations

import time
from typing import Any

from litestar import Request

from council.errors import TooMany
from council.i18n import N_


async def check_login_rate(request: Request[Any, Any, Any]) -> None:
    settings = request.app.state.settings
    store = request.app.stores.get("limits")
    client = request.client.host if request.client else "unknown"
    window = int(time.time() // 60)
    key = f"login:{client}:{window}"
    raw = await store.get(key)
    count = int(raw or b"0") + 1
    await store.set(key, str(count).encode(), expires_in=120)
    if count > settings.login_rate_per_minute:
        raise TooMany(N_("Too many login attempts from this device. Wait a minute and try again."))
