"""A ballot withdrawn before it opened: when, and the public reason. The new status
`withdrawn` needs nothing here: `ballot.status` is a Varchar without a database constraint
(Piccolo's `choices` are checked in Python only)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T16:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ballot withdrawal"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="council", description=DESCRIPTION)
    for name, column_class in (("withdrawn_at", Timestamptz), ("withdrawn_reason", Text)):
        manager.add_column(
            table_class_name="Ballot",
            tablename="ballot",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={
                "default": None,
                "null": True,
                "primary_key": False,
                "unique": False,
                "index": False,
                "index_method": IndexMethod.btree,
                "choices": None,
                "db_column_name": None,
                "secret": False,
            },
            schema=None,
        )
    return manager
