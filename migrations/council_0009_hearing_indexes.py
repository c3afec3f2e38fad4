"""Constraints of the hearings that Piccolo cannot express on SQLite: one attendance per
resident or user, one live place in a queue per person, agenda positions."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "hearing indexes"

COMMON = [
    "CREATE UNIQUE INDEX attendance_resident ON attendance (hearing, resident) WHERE resident IS NOT NULL",
    "CREATE UNIQUE INDEX attendance_user ON attendance (hearing, \"user\") WHERE resident IS NULL",
    "CREATE UNIQUE INDEX speaker_live_resident ON speaker (item, resident) "
    "WHERE resident IS NOT NULL AND status IN ('waiting', 'speaking')",
    "CREATE UNIQUE INDEX speaker_live_user ON speaker (item, \"user\") "
    "WHERE resident IS NULL AND \"user\" IS NOT NULL AND status IN ('waiting', 'speaking')",
    "CREATE INDEX agenda_by_hearing ON agenda_item (hearing, position)",
    "CREATE INDEX statement_by_hearing ON statement (hearing, spoken_at)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="council", description=DESCRIPTION)

    async def run() -> None:
        from council.db import engine

        for statement in COMMON:
            await engine().run_ddl(statement)

    manager.add_raw(run)
    return manager
