"""Every setting comes from a COUNCIL_* environment variable, with a default."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(f"COUNCIL_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"COUNCIL_{name}")
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"COUNCIL_{name} must be an integer, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"COUNCIL_{name}")
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _default_secret(data_dir: Path) -> str:
    """A random secret kept in the data directory, so restarts keep sessions valid."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def data_dir_from_env() -> Path:
    return Path(_env("DATA_DIR", str(PROJECT_ROOT / "var"))).resolve()


def database_url_from_env() -> str:
    return _env("DATABASE_URL", "") or f"sqlite:///{data_dir_from_env() / 'council.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    redis_url: str = ""
    base_url: str = "http://127.0.0.1:8000"
    debug: bool = False
    secure_cookies: bool = False
    db_pool_size: int = 8
    default_locale: str = "zh_Hans"
    timezone: str = "Asia/Shanghai"
    session_max_age: int = 8 * 3600
    invitation_hours: int = 72
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_rate_per_minute: int = 20
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1
    page_size: int = 50
    # The largest request body: a proposal's six photos of 5 MB each, with room to spare.
    # Each file's own limit is its service's (a photo 5 MB, a hearing attachment 10 MB).
    max_upload_bytes: int = 32 * 1024 * 1024
    # Email: off while smtp_host is empty; notifications then only reach the inbox.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "council@localhost"
    smtp_starttls: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = data_dir_from_env()
        database_url = database_url_from_env()
        secret = _env("SECRET_KEY", "") or _default_secret(data_dir)
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=secret,
            redis_url=_env("REDIS_URL", ""),
            base_url=_env("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            debug=_env_bool("DEBUG", False),
            secure_cookies=_env_bool("SECURE_COOKIES", False),
            db_pool_size=_env_int("DB_POOL_SIZE", 8),
            default_locale=_env("DEFAULT_LOCALE", "zh_Hans"),
            timezone=_env("TIMEZONE", "Asia/Shanghai"),
            session_max_age=_env_int("SESSION_MAX_AGE", 8 * 3600),
            invitation_hours=_env_int("INVITATION_HOURS", 72),
            login_max_failures=_env_int("LOGIN_MAX_FAILURES", 5),
            login_lockout_minutes=_env_int("LOGIN_LOCKOUT_MINUTES", 15),
            login_rate_per_minute=_env_int("LOGIN_RATE_PER_MINUTE", 20),
            argon2_time_cost=_env_int("ARGON2_TIME_COST", 2),
            argon2_memory_kib=_env_int("ARGON2_MEMORY_KIB", 19456),
            argon2_parallelism=_env_int("ARGON2_PARALLELISM", 1),
            page_size=_env_int("PAGE_SIZE", 50),
            max_upload_bytes=_env_int("MAX_UPLOAD_BYTES", 32 * 1024 * 1024),
            smtp_host=_env("SMTP_HOST", "").strip(),
            smtp_port=_env_int("SMTP_PORT", 25),
            smtp_user=_env("SMTP_USER", ""),
            smtp_password=_env("SMTP_PASSWORD", ""),
            smtp_from=_env("SMTP_FROM", "council@localhost"),
            smtp_starttls=_env_bool("SMTP_STARTTLS", False),
        )
