"""argon2id hashing with parameters from settings.

Defaults (t=2, m=19 MiB, p=1) are the OWASP minimum for argon2id; `make bench` prints
what one login costs with them. `needs_rehash` lets login upgrade old hashes when the
parameters change.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from council.settings import Settings


@cache
def hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher_for(settings: Settings) -> PasswordHasher:
    return hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)


def hash_password(settings: Settings, password: str) -> str:
    return hasher_for(settings).hash(password)


def verify_password(settings: Settings, password_hash: str, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return hasher_for(settings).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(settings: Settings, password_hash: str) -> bool:
    return hasher_for(settings).check_needs_rehash(password_hash)


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
