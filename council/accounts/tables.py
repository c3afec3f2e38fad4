from enum import Enum

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from council.community.tables import Node, Resident
from council.i18n import N_, Term


class Role(str, Enum):
    resident = "resident"
    council_member = "council_member"
    host = "host"
    secretary = "secretary"
    supervisor = "supervisor"
    staff = "staff"
    admin = "admin"


ROLE_TERMS: dict[Role, Term] = {
    Role.resident: Term(N_("Resident")),
    Role.council_member: Term(N_("Council member")),
    Role.host: Term(N_("Host")),
    Role.secretary: Term(N_("Secretary")),
    Role.supervisor: Term(N_("Supervisor")),
    Role.staff: Term(N_("Staff")),
    Role.admin: Term(N_("Admin")),
}


class User(Table, tablename="account"):
    """Someone who can log in. A resident's account links to the roster entry."""

    id = Serial(primary_key=True)
    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=100)
    email = Varchar(length=254, default="")
    # Empty until the person sets a password through an invitation link.
    password_hash = Varchar(length=255, default="")
    resident = ForeignKey(Resident, null=True, default=None, on_delete=OnDelete.restrict)
    active = Boolean(default=True)
    locale = Varchar(length=16, default="")
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    last_login_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class RoleAssignment(Table, tablename="role_assignment"):
    """A role held over a scope (a node and everything under it)."""

    id = Serial(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    role = Varchar(length=16, choices=Role)
    node = ForeignKey(Node, on_delete=OnDelete.restrict)
    created_at = Timestamptz()


class Invitation(Table, tablename="invitation"):
    """A single-use, expiring link to set a password (new account or reset)."""

    id = Serial(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    token_hash = Varchar(length=64, unique=True)
    purpose = Varchar(length=16, default="invite")
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="api_token"):
    """A personal token for scripts and CLIs; only its SHA-256 is stored."""

    id = Serial(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=64)
    prefix = Varchar(length=12)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
