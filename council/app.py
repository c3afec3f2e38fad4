"""create_app(settings) -> Litestar: the only place that wires things."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.channels import ChannelsBackend, ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig

from council import i18n
from council.accounts import pages as account_pages
from council.accounts import routes as account_routes
from council.audit import routes as audit_routes
from council.ballots import manage_pages as ballot_manage_pages
from council.ballots import pages as ballot_pages
from council.ballots import proxy_pages as ballot_proxy_pages
from council.ballots import routes as ballot_routes
from council.community import pages as roster_pages
from council.community import routes as roster_routes
from council.db import PooledSQLiteEngine, engine
from council.errors import EXCEPTION_HANDLERS
from council.hearings import console_pages as hearing_console_pages
from council.hearings import live as hearing_live
from council.hearings import pages as hearing_pages
from council.hearings import record_pages as hearing_record_pages
from council.hearings import routes as hearing_routes
from council.home import HomeController, health
from council.middleware import TokenAwareCSRFMiddleware, auth_middleware
from council.notifications import pages as notification_pages
from council.notifications import routes as notification_routes
from council.notifications.outbox import OutboxWorker
from council.proposals import pages as proposal_pages
from council.proposals import routes as proposal_routes
from council.settings import PROJECT_ROOT, Settings

STATIC_DIR = PROJECT_ROOT / "council" / "static"
TEMPLATE_DIR = PROJECT_ROOT / "templates"


class RotatingSessionBackend(ServerSideSessionBackend):
    """A new session id at login and logout, so a session id planted before login
    (session fixation) never becomes a logged-in session."""

    def get_session_id(self, connection: Any) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get("rotate_session"):
            if "rotated_session_id" not in state:
                old = connection.cookies.get(self.config.key)
                state["rotated_session_id"] = self.generate_session_id()
                state["stale_session_id"] = old
            return str(state["rotated_session_id"])
        return str(super().get_session_id(connection))

    async def store_in_message(self, scope_session: Any, message: Any, connection: Any) -> None:
        if (
            isinstance(scope_session, dict)
            and not scope_session
            and not connection.cookies.get(self.config.key)
        ):
            # A visitor without a session (a public page, a live stream): nothing to keep, no cookie.
            return
        await super().store_in_message(scope_session, message, connection)
        stale = connection.scope.get("state", {}).get("stale_session_id")
        if stale:
            await self.delete(stale, store=self.config.get_store_from_app(connection.scope["app"]))


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def _stores(settings: Settings) -> dict[str, Store]:
    if settings.redis_url:
        return {
            "sessions": RedisStore.with_client(url=settings.redis_url, namespace="council:sessions"),
            "limits": RedisStore.with_client(url=settings.redis_url, namespace="council:limits"),
        }
    sessions = settings.data_dir / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "limits").mkdir(parents=True, exist_ok=True)
    return {
        "sessions": FileStore(sessions, create_directories=True),
        # Files, not process memory: every worker on this machine counts the same attempts.
        "limits": FileStore(settings.data_dir / "limits", create_directories=True),
    }


class _PubSub(RedisChannelsPubSubBackend):
    """Redis pub/sub ignores the database number: channel names carry it, so two deployments
    on one Redis server (as the sessions and limits stores allow) never see each other's hearings."""

    def __init__(self, redis: Any) -> None:
        super().__init__(redis=redis, key_prefix="council:channels")
        self._prefix = f"council:{redis.connection_pool.connection_kwargs.get('db', 0)}:"

    async def subscribe(self, channels: Iterable[str]) -> None:
        await super().subscribe([self._prefix + c for c in channels])

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        await super().unsubscribe([self._prefix + c for c in channels])

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        await super().publish(data, [self._prefix + c for c in channels])

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        async for channel, data in super().stream_events():
            yield channel.removeprefix(self._prefix), data


async def _keep_connection(connection: Any) -> None:
    """asyncpg resets every connection it takes back (one more round trip per request). Nothing
    here leaves session state behind: locks are transaction-scoped (pg_advisory_xact_lock),
    there is no LISTEN, no temporary table and no SET outside a transaction."""


def _channels(settings: Settings) -> ChannelsPlugin:
    """Live updates of hearings: in memory for one process, through Redis for several."""
    if settings.redis_url:
        from redis.asyncio import Redis

        backend: ChannelsBackend = _PubSub(Redis.from_url(settings.redis_url))
    else:
        backend = MemoryChannelsBackend()
    return ChannelsPlugin(
        backend=backend,
        arbitrary_channels_allowed=True,
        # Each message is a hearing's whole state: a client that falls behind needs only the
        # newest, so a stalled connection holds a few messages, not hundreds.
        subscriber_max_backlog=8,
        subscriber_backlog_strategy="dropleft",
    )


def _jinja(settings: Settings) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    zone = ZoneInfo(settings.timezone)

    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(zone).strftime(fmt) if value else "—"

    env.filters["localtime"] = localtime
    env.globals["locales"] = i18n.LOCALES
    env.globals["current_locale"] = i18n.current_locale.get
    return env


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()

    async def start_pool() -> None:
        db: Any = engine()
        if settings.db_pool_size <= 0:
            return
        if isinstance(db, PooledSQLiteEngine):
            db.pool_size = settings.db_pool_size
        elif db.pool is None:  # a test's loop may have its own already
            await db.start_connection_pool(min_size=1, max_size=settings.db_pool_size, reset=_keep_connection)

    async def close_pool() -> None:
        # PostgreSQL's pool is left to the process exit: closing it here fails the
        # requests the server is still finishing.
        db: Any = engine()
        if isinstance(db, PooledSQLiteEngine):
            await db.close_pool()

    outbox = OutboxWorker(settings)
    channels = _channels(settings)

    async def start_live() -> None:
        hearing_live.set_publisher(lambda name, message: channels.publish(message, name))

    async def stop_live() -> None:
        hearing_live.set_publisher(None)

    session = RotatingSessionConfig(
        key="council_session",
        max_age=settings.session_max_age,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        store="sessions",
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="council_csrf",
        header_name="x-csrftoken",
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        exclude=["/static/", "/healthz"],
    )
    return Litestar(
        route_handlers=[
            health,
            HomeController,
            *account_pages.HANDLERS,
            *account_routes.HANDLERS,
            *roster_pages.HANDLERS,
            *roster_routes.HANDLERS,
            *audit_routes.HANDLERS,
            *notification_pages.HANDLERS,
            *notification_routes.HANDLERS,
            *proposal_pages.HANDLERS,
            *proposal_routes.HANDLERS,
            *ballot_routes.HANDLERS,
            *hearing_routes.HANDLERS,
            *hearing_pages.HANDLERS,
            *hearing_console_pages.HANDLERS,
            *hearing_record_pages.HANDLERS,
            *ballot_pages.HANDLERS,
            *ballot_manage_pages.HANDLERS,
            *ballot_proxy_pages.HANDLERS,
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
        ],
        middleware=[
            session.middleware,
            DefineMiddleware(TokenAwareCSRFMiddleware, config=csrf),
            auth_middleware,
        ],
        stores=_stores(settings),
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(_jinja(settings))),
        openapi_config=OpenAPIConfig(
            title="council API",
            version="1",
            path="/api/docs",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"settings": settings}),
        on_startup=[start_pool, outbox.start, start_live],
        on_shutdown=[stop_live, outbox.stop, close_pool],
        plugins=[channels],
        before_request=notification_pages.unread_badge,
        request_max_body_size=settings.max_upload_bytes,
        debug=False,
    )
