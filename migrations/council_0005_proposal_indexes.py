"""Indexes of the propose step that Piccolo cannot express: one live co-sign per resident
or household (a partial unique index), and trigram search of Chinese text on PostgreSQL."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T19:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "proposal indexes"

COMMON = [
    "CREATE UNIQUE INDEX cosign_live_unique ON cosign (proposal, dedupe_key) WHERE withdrawn_at IS NULL",
    "CREATE INDEX proposal_listing ON proposal (status, id)",
    "CREATE INDEX comment_by_proposal ON comment (proposal, id)",
]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX proposal_search_trgm ON proposal USING gin (search_text gin_trgm_ops)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="council", description=DESCRIPTION)

    async def run() -> None:
        from council.db import engine, is_sqlite

        for statement in COMMON + ([] if is_sqlite() else POSTGRES):
            await engine().run_ddl(statement)

    manager.add_raw(run)
    return manager
