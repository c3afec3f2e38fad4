from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from council.accounts.tables import User


class Notification(Table, tablename="notification"):
    """One message in a user's inbox; title and body are stored already rendered."""

    id = Serial(primary_key=True)
    # Indexed together with read_at and id in raw SQL (see migration 0003).
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=32)
    title = Varchar(length=200)
    body = Text(default="")
    link = Varchar(length=300, default="")
    subject_type = Varchar(length=32, default="")
    subject_id = Varchar(length=64, default="")
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)


class OutboxEmail(Table, tablename="outbox_email"):
    """An email waiting to be sent (or sent, or given up on: rows are kept)."""

    id = Serial(primary_key=True)
    to_address = Varchar(length=254)
    subject = Varchar(length=200)
    body = Text(default="")
    created_at = Timestamptz()
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    claimed_until = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
