"""Route guards: who may reach a handler at all. Scope checks happen in the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from council.accounts.principal import Principal
from council.accounts.tables import Role
from council.errors import Forbidden, Unauthorized
from council.i18n import N_

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    user = connection.scope.get("user")
    return user if isinstance(user, Principal) else None


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if principal_of(connection) is None:
        raise Unauthorized(N_("Please log in first."))


def requires_role(*roles: Role) -> Guard:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if principal is None:
            raise Unauthorized(N_("Please log in first."))
        if not principal.has_role(*roles, Role.admin):
            raise Forbidden(N_("Your roles do not allow this page."))

    return guard
