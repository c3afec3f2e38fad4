"""The front page, the language switch and the health check."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from council.accounts import service as accounts
from council.accounts.guards import principal_of
from council.community import service as roster
from council.db import ping
from council.i18n import LOCALES
from council.web import form_data, safe_next


@get("/healthz", tags=["health"])
async def health() -> Response[dict[str, str]]:
    """Reports whether the database answers."""
    ok = await ping()
    return Response(
        {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"},
        status_code=200 if ok else 503,
    )


class HomeController(Controller):
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        principal = principal_of(request)
        communities = await roster.roots()
        return Template("home.html", context={"principal": principal, "communities": communities})

    @post("/lang")
    async def set_language(self, request: Request[Any, Any, Any]) -> Redirect:
        data = await form_data(request)
        locale = str(data.get("locale", ""))
        target = safe_next(str(data.get("next", "/")))
        response = Redirect(path=target, status_code=303)
        if locale in LOCALES:
            response.cookies.append(Cookie(key="lang", value=locale, max_age=365 * 24 * 3600, samesite="lax"))
            principal = principal_of(request)
            if principal is not None and principal.locale != locale:
                await accounts.set_locale(principal, locale)
        return response
