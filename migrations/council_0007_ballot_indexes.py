"""Constraints of the ballots that Piccolo cannot express on SQLite: one board entry per
seq, one copy of each ciphertext, one trustee per index and per user, one roster entry
per alias and per voter, one live proxy per delegator."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T15:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ballot indexes"

COMMON = [
    "CREATE UNIQUE INDEX ballot_board_seq ON ballot_board (ballot, seq)",
    "CREATE INDEX ballot_board_alias ON ballot_board (ballot, alias)",
    "CREATE INDEX ballot_board_tracking ON ballot_board (ballot, tracking_code)",
    "CREATE UNIQUE INDEX ballot_ciphertext_unique ON ballot_ciphertext (ballot, alpha)",
    "CREATE UNIQUE INDEX ballot_trustee_position ON ballot_trustee (ballot, position)",
    "CREATE UNIQUE INDEX ballot_trustee_user ON ballot_trustee (ballot, \"user\")",
    "CREATE UNIQUE INDEX ballot_roster_alias ON ballot_roster (ballot, alias)",
    "CREATE UNIQUE INDEX ballot_roster_resident ON ballot_roster (ballot, resident)",
    "CREATE UNIQUE INDEX ballot_proxy_live ON ballot_proxy (ballot, delegator) WHERE revoked_at IS NULL",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="council", description=DESCRIPTION)

    async def run() -> None:
        from council.db import engine

        for statement in COMMON:
            await engine().run_ddl(statement)

    manager.add_raw(run)
    return manager
