"""One Piccolo app for all of council's tables; migrations live in the top-level migrations/."""

from piccolo.conf.apps import AppConfig

from council.accounts.tables import ApiToken, Invitation, RoleAssignment, User
from council.audit.tables import AuditEntry
from council.ballots.tables import Ballot, BoardEntry, Ciphertext, Proxy, RosterEntry, Trustee
from council.community.tables import Node, Resident
from council.hearings.tables import AgendaItem, Attachment, Attendance, Hearing, Motion, Speaker, Statement
from council.notifications.tables import Notification, OutboxEmail
from council.proposals.tables import (
    Comment,
    CommunityRules,
    Cosign,
    Order,
    OrderNote,
    Proposal,
    ProposalPhoto,
)
from council.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="council",
    migrations_folder_path=str(PROJECT_ROOT / "migrations"),
    table_classes=[
        AuditEntry,
        Node,
        Resident,
        User,
        RoleAssignment,
        Invitation,
        ApiToken,
        Notification,
        OutboxEmail,
        Proposal,
        Cosign,
        Comment,
        ProposalPhoto,
        CommunityRules,
        Order,
        OrderNote,
        Ballot,
        Trustee,
        RosterEntry,
        BoardEntry,
        Ciphertext,
        Proxy,
        Hearing,
        AgendaItem,
        Attendance,
        Speaker,
        Statement,
        Motion,
        Attachment,
    ],
    migration_dependencies=[],
    commands=[],
)
