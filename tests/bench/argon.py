"""Login cost, part one: argon2id hash and verify in this process."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from council.accounts import passwords
from council.settings import Settings, _env_int
from tests.bench.stats import percentile


@dataclass(frozen=True)
class ArgonFigures:
    time_cost: int
    memory_kib: int
    parallelism: int
    iterations: int
    hash_p50: float
    hash_p95: float
    verify_p50: float
    verify_p95: float
    both_p50: float
    both_p95: float

    @property
    def params(self) -> str:
        return f"t={self.time_cost}, m={self.memory_kib} KiB ({self.memory_kib / 1024:.1f} MiB), p={self.parallelism}"


def argon_settings() -> Settings:
    """The hashing parameters as the server reads them (COUNCIL_ARGON2_*), without
    Settings.from_env(), which would create a secret key in the data directory."""
    defaults = Settings(data_dir=Path("."), database_url="", secret_key="")
    return replace(
        defaults,
        argon2_time_cost=_env_int("ARGON2_TIME_COST", defaults.argon2_time_cost),
        argon2_memory_kib=_env_int("ARGON2_MEMORY_KIB", defaults.argon2_memory_kib),
        argon2_parallelism=_env_int("ARGON2_PARALLELISM", defaults.argon2_parallelism),
    )


def measure(iterations: int) -> ArgonFigures:
    settings = argon_settings()
    password = "council-demo"
    passwords.verify_password(settings, passwords.hash_password(settings, password), password)  # warm-up
    hashes: list[float] = []
    verifies: list[float] = []
    both: list[float] = []
    for _ in range(iterations):
        start = time.perf_counter()
        stored = passwords.hash_password(settings, password)
        middle = time.perf_counter()
        ok = passwords.verify_password(settings, stored, password)
        end = time.perf_counter()
        if not ok:
            raise RuntimeError("argon2 verify failed on a hash it just made")
        hashes.append(middle - start)
        verifies.append(end - middle)
        both.append(end - start)
    return ArgonFigures(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        iterations=iterations,
        hash_p50=percentile(hashes, 50),
        hash_p95=percentile(hashes, 95),
        verify_p50=percentile(verifies, 50),
        verify_p95=percentile(verifies, 95),
        both_p50=percentile(both, 50),
        both_p95=percentile(both, 95),
    )
