from piccolo.columns import Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_entry"):
    """One state change. Append-only; each entry holds the hash of the one before."""

    id = Serial(primary_key=True)
    seq = Integer(unique=True, index=True)
    at = Timestamptz()
    # Plain columns, not foreign keys: the log must outlive and never block what it describes.
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=100, default="")
    action = Varchar(length=64)
    subject_type = Varchar(length=32)
    subject_id = Varchar(length=64, default="")
    data = Text(default="{}")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)
