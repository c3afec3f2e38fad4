"""Who is asking (session or personal token) and in which language to answer."""

from __future__ import annotations

from typing import Any, cast

from litestar.enums import ScopeType
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from council.accounts import login, tokens
from council.i18n import current_locale, pick_locale


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _cookie(scope: Scope, name: str) -> str:
    for part in _header(scope, b"cookie").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def bearer_token(scope: Scope) -> str:
    auth = _header(scope, b"authorization")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class TokenAwareCSRFMiddleware(CSRFMiddleware):
    """CSRF on every form and session-authenticated request; a bearer token is not sent
    by browsers on their own, so requests carrying one skip the check."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and _header(scope, b"authorization"):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def auth_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith("/static/"):
            await app(scope, receive, send)
            return
        principal = None
        token = bearer_token(scope)
        if token:
            principal = await tokens.principal_from_token(token)
        else:
            session = cast("dict[str, Any]", scope.get("session") or {})
            user_id = session.get("uid")
            if isinstance(user_id, int):
                principal = await login.load_principal(user_id, str(session.get("ep", "")))
        scope["user"] = principal
        scope["auth"] = "token" if token else "session"
        locale = pick_locale(_cookie(scope, "lang"), principal.locale if principal else None)
        reset = current_locale.set(locale)
        try:
            await app(scope, receive, send)
        finally:
            current_locale.reset(reset)

    return middleware
