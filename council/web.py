"""Small helpers shared by the HTML pages and the API handlers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.response import Redirect

from council.accounts.guards import principal_of
from council.accounts.principal import Principal
from council.errors import FieldProblem, Invalid, Unauthorized
from council.i18n import N_
from council.settings import Settings

T = TypeVar("T", bound=msgspec.Struct)

MAX_PAGE = 200


def settings_of(request: Request[Any, Any, State]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def require_principal(request: Request[Any, Any, Any]) -> Principal:
    principal = principal_of(request)
    if principal is None:
        raise Unauthorized(N_("Please log in first."))
    return principal


def convert(data: Any, struct: type[T], *, from_form: bool = False) -> T:
    """Validate input into a Struct; a failure names the field and changes nothing."""
    try:
        return msgspec.convert(data, struct, strict=not from_form)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rsplit("at `$.", 1)[-1].rstrip("`") if "at `$." in message else ""
        raise Invalid(
            N_("Field {field}: {problem}"),
            [FieldProblem(path, message)],
            field=path or "-",
            problem=message.split(" - at ")[0],
        ) from None


async def form_data(request: Request[Any, Any, Any], *checkboxes: str) -> dict[str, Any]:
    """The posted form, without the CSRF field, with empty strings for optional ints
    dropped and unchecked checkboxes as False."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key, value in form.items():
        if key == "_csrf_token" or isinstance(value, msgspec.UnsetType):
            continue
        data[key] = value
    for name in checkboxes:
        data[name] = name in data and data[name] not in ("", "0", "off", "false")
    return data


def form_text(form: Any, key: str, limit: int | None = None) -> str:
    """A posted form's field as text ("" when absent or a file), cut to `limit` characters."""
    value = form.get(key, "")
    if not isinstance(value, str):
        return ""
    return value if limit is None else value[:limit]


def form_slots(
    form: Any, prefix: str, fields: Sequence[str], most: int, blank: Callable[[], dict[str, str]], least: int
) -> list[dict[str, str]]:
    """Numbered groups of fields as typed ({prefix}-0-{field}, {prefix}-1-{field}, … up to
    `most`): a group the form did not send is skipped, and blanks fill up to `least` slots,
    so a re-rendered form shows exactly what was sent."""
    slots = [
        {name: form_text(form, f"{prefix}-{k}-{name}") for name in fields}
        for k in range(most)
        if any(f"{prefix}-{k}-{name}" in form for name in fields)
    ]
    slots += [blank() for _ in range(least - len(slots))]
    return slots


def drop_empty(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        if data.get(key) in ("", None):
            data.pop(key, None)
    return data


@dataclass(frozen=True)
class Paging:
    offset: int
    limit: int

    @classmethod
    def of(cls, offset: int | None, limit: int | None, default: int = 50) -> Paging:
        off = max(0, offset or 0)
        lim = default if limit is None else limit
        if lim < 1 or lim > MAX_PAGE:
            raise Invalid(N_("limit must be between 1 and {max}."), max=MAX_PAGE)
        return cls(off, lim)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths may be redirect targets."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def flash(request: Request[Any, Any, Any], message: str) -> None:
    """A one-time "done" message (an English message id) shown on the next page."""
    data = dict(request.session or {}) if request.scope.get("session") else {}
    data["flash"] = message
    request.set_session(data)


def start_session(request: Request[Any, Any, Any], data: dict[str, Any]) -> None:
    """Log in: fresh session data under a fresh session id."""
    request.state.rotate_session = True
    request.set_session(data)


def redirect(path: str) -> Redirect:
    return Redirect(path=path, status_code=303)
