"""Every route is guarded unless it is deliberately public."""

from __future__ import annotations

from typing import Any

from litestar.routes import HTTPRoute

from council.app import create_app

PUBLIC = {
    "/",
    "/login",
    "/logout",
    "/lang",
    "/healthz",
    "/invitations/{token:str}",
}


def test_every_non_public_route_has_a_guard(settings: Any) -> None:
    app = create_app(settings)
    unguarded = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = route.path
        if path in PUBLIC or path.startswith(("/static", "/api/docs")):
            continue
        for handler in route.route_handlers:
            if handler.opt.get("public") or handler.http_methods == {"OPTIONS"}:
                continue
            if not handler.resolve_guards():
                unguarded.append(f"{sorted(handler.http_methods)} {path}")
    assert unguarded == []
    assert any(r.path.startswith("/api/v1/residents") for r in app.routes)
