"""Composite unique constraints, in raw SQL (Piccolo's Unique fails on SQLite)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T18:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique constraints"

STATEMENTS = [
    "CREATE UNIQUE INDEX node_parent_name_unique ON node (parent, name)",
    "CREATE UNIQUE INDEX role_assignment_unique ON role_assignment (\"user\", role, node)",
    "CREATE INDEX audit_entry_subject ON audit_entry (subject_type, subject_id)",
    "CREATE INDEX resident_name ON resident (name)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="council", description=DESCRIPTION)

    async def run() -> None:
        from council.db import engine

        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(run)
    return manager
