"""Domain errors, and how they reach people: problem details (RFC 9457) in the API,
a readable page in HTML, never a stack trace."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from council.i18n import N_, Term, current_locale, gettext, pick_locale

log = logging.getLogger("council")


@dataclass
class FieldProblem:
    field: str
    message: str
    params: dict[str, Any] = dc_field(default_factory=dict)
    row: int | None = None


class DomainError(Exception):
    status_code = 400
    slug = "invalid"
    title = N_("The request could not be processed")

    def __init__(self, message: str, problems: list[FieldProblem] | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        self.problems = problems or []
        # Extra members of the problem details (RFC 9457 extensions), e.g. the failed check.
        self.extensions: dict[str, Any] = {}

    def detail(self) -> str:
        if not self.params:
            return gettext(self.message)
        params = {k: gettext(v) if isinstance(v, Term) else v for k, v in self.params.items()}
        return gettext(self.message).format(**params)


class Invalid(DomainError):
    status_code = 400
    slug = "invalid"
    title = N_("Some fields are not valid")


class Unauthorized(DomainError):
    status_code = 401
    slug = "unauthorized"
    title = N_("Please log in")


class Forbidden(DomainError):
    status_code = 403
    slug = "forbidden"
    title = N_("You may not do this")


class NotFound(DomainError):
    status_code = 404
    slug = "not-found"
    title = N_("Not found")


class Conflict(DomainError):
    status_code = 409
    slug = "conflict"
    title = N_("This conflicts with the current state")


class Refused(DomainError):
    """A ballot, vote or trustee message that fails a check; `check` names it."""

    status_code = 422
    slug = "ballot-refused"
    title = N_("The ballot system refused this")

    def __init__(self, failed_check: str, message: str, /, **params: Any) -> None:
        super().__init__(message, **params)
        self.extensions["check"] = failed_check


class Gone(DomainError):
    status_code = 410
    slug = "gone"
    title = N_("This link is no longer valid")


class TooMany(DomainError):
    status_code = 429
    slug = "too-many-requests"
    title = N_("Too many attempts")


def wants_json(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _problem(
    request: Request[Any, Any, Any],
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response[Any]:
    if wants_json(request):
        body: dict[str, Any] = {
            "type": f"/problems/{slug}",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": request.url.path,
        }
        if errors:
            body["errors"] = errors
        body.update(extensions or {})
        return Response(body, status_code=status, media_type="application/problem+json", headers=headers)
    return Template(
        template_name="error.html",
        context={"status": status, "title": title, "detail": detail, "errors": errors},
        status_code=status,
        media_type=MediaType.HTML,
        headers=headers,
    )


def _problems_as_dicts(problems: list[FieldProblem]) -> list[dict[str, Any]]:
    out = []
    for problem in problems:
        item: dict[str, Any] = {
            "field": problem.field,
            "message": gettext(problem.message).format(**problem.params),
        }
        if problem.row is not None:
            item["row"] = problem.row
        out.append(item)
    return out


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return _problem(
        request,
        exc.status_code,
        exc.slug,
        gettext(exc.title),
        exc.detail(),
        _problems_as_dicts(exc.problems),
        extensions=exc.extensions,
    )


_HTTP_SLUGS = {
    400: ("invalid", N_("The request could not be processed")),
    401: ("unauthorized", N_("Please log in")),
    403: ("forbidden", N_("You may not do this")),
    404: ("not-found", N_("Not found")),
    405: ("method-not-allowed", N_("This action is not available here")),
    413: ("too-large", N_("The upload is too large")),
    429: ("too-many-requests", N_("Too many attempts")),
}


_HTTP_DETAILS = {
    404: N_("This page does not exist. The link may be wrong or out of date."),
    405: N_("This address does not take this kind of request."),
}


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if "user" not in request.scope:
        # No route matched, so the middleware that picks the language never ran.
        current_locale.set(pick_locale(request.cookies.get("lang")))
    status = exc.status_code
    slug, title = _HTTP_SLUGS.get(status, ("error", N_("Something went wrong")))
    errors: list[dict[str, Any]] = []
    detail = gettext(_HTTP_DETAILS.get(status, title))
    if isinstance(exc, ValidationException):
        detail = gettext("Some fields are not valid")
        for item in exc.extra if isinstance(exc.extra, list) else []:
            if isinstance(item, dict):
                errors.append({"field": str(item.get("key", "")), "message": str(item.get("message", ""))})
        if not errors and exc.detail:
            detail = str(exc.detail)
    elif status == 403 and exc.detail and exc.detail.startswith("CSRF"):
        detail = gettext("The form has expired. Please go back, reload the page and try again.")
    headers = dict(exc.headers) if exc.headers else None
    return _problem(request, status, slug, gettext(title), detail, errors, headers)


def integrity_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A constraint the database enforced (two requests raced for the same unique value):
    the transaction rolled back, so nothing changed."""
    log.info("constraint violation on %s %s: %s", request.method, request.url.path, exc)
    return _problem(
        request,
        409,
        "conflict",
        gettext(Conflict.title),
        gettext("This conflicts with data saved a moment ago. Reload and try again."),
        [],
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal-error",
        gettext("Something went wrong"),
        gettext("The server could not finish this request. Nothing was changed."),
        [],
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    sqlite3.IntegrityError: integrity_error_handler,
    asyncpg.exceptions.IntegrityConstraintViolationError: integrity_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
