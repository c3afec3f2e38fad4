"""The hearings' tables: a hearing, its agenda, attendance, speaker queue, statements, motions.

Everything a hearing's live page shows lives here, not in a process: a client that
reconnects, or a server that restarts, reads the same state back. `Hearing.version`
grows with every change, so a client knows whether it missed one.
"""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from council.accounts.tables import User
from council.ballots.tables import Ballot
from council.community.tables import Node, Resident
from council.i18n import N_, Term
from council.proposals.tables import Proposal


class HearingKind(str, Enum):
    council_meeting = "council_meeting"  # 议事会
    doorstep_talk = "doorstep_talk"  # 屋场恳谈会
    formal_hearing = "formal_hearing"  # 听证会


KIND_TERMS = {
    HearingKind.council_meeting: Term(N_("Council meeting")),
    HearingKind.doorstep_talk: Term(N_("Doorstep talk")),
    HearingKind.formal_hearing: Term(N_("Formal hearing")),
}


class HearingStatus(str, Enum):
    scheduled = "scheduled"
    running = "running"
    ended = "ended"
    cancelled = "cancelled"


STATUS_TERMS = {
    HearingStatus.scheduled: Term(N_("Scheduled")),
    HearingStatus.running: Term(N_("In session")),
    HearingStatus.ended: Term(N_("Ended")),
    HearingStatus.cancelled: Term(N_("Cancelled")),
}


class Invitees(str, Enum):
    residents = "residents"  # everyone living in the scope
    council = "council"  # council members of the scope only


class ItemStatus(str, Enum):
    pending = "pending"
    open = "open"
    closed = "closed"


class Outcome(str, Enum):
    consensus = "consensus"  # agreed: the text says what
    ballot = "ballot"  # sent to a vote: a ballot was created
    deferred = "deferred"  # to a later hearing
    dispatch = "dispatch"  # referred to the three-order dispatch


OUTCOME_TERMS = {
    Outcome.consensus: Term(N_("Consensus")),
    Outcome.ballot: Term(N_("Sent to a ballot")),
    Outcome.deferred: Term(N_("Deferred to a later hearing")),
    Outcome.dispatch: Term(N_("Referred to dispatch")),
}


class SpeakerStatus(str, Enum):
    waiting = "waiting"
    speaking = "speaking"
    done = "done"
    skipped = "skipped"
    withdrawn = "withdrawn"


class Hearing(Table, tablename="hearing"):
    id = Serial(primary_key=True)
    kind = Varchar(length=24, choices=HearingKind)
    title = Varchar(length=100)
    description = Text(default="")
    scope = ForeignKey(Node, on_delete=OnDelete.restrict, index=True)
    scope_path = Varchar(length=255, index=True)
    starts_at = Timestamptz()
    place = Varchar(length=200, default="")
    online = Boolean(default=True)
    host = ForeignKey(User, on_delete=OnDelete.restrict)
    secretary = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    invitees = Varchar(length=16, choices=Invitees)
    # More than this many per mille of the invited households (or members) present; 0: no quorum.
    quorum_permille = Integer(default=500)
    speaking_seconds = Integer(default=180)  # each speaker's default time
    status = Varchar(length=16, choices=HearingStatus, index=True)
    current_item = Integer(null=True, default=None)  # AgendaItem id (no FK: the tables point at each other)
    version = Integer(default=0)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    started_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    sealed_at = Timestamptz(null=True, default=None)  # minutes sealed: statements no longer change


class AgendaItem(Table, tablename="agenda_item"):
    id = Serial(primary_key=True)
    hearing = ForeignKey(Hearing, on_delete=OnDelete.restrict, index=True)
    position = Integer()
    title = Varchar(length=100)
    proposal = ForeignKey(Proposal, null=True, on_delete=OnDelete.restrict, index=True)
    minutes_budget = Integer(default=15)
    status = Varchar(length=16, choices=ItemStatus)
    opened_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=16, choices=Outcome, null=True, default=None)
    outcome_text = Text(default="")
    ballot = ForeignKey(Ballot, null=True, on_delete=OnDelete.restrict)
    deferred_to = ForeignKey(Hearing, null=True, on_delete=OnDelete.restrict)


class Attendance(Table, tablename="attendance"):
    """One person's presence. `household` counts a household once however many come."""

    id = Serial(primary_key=True)
    hearing = ForeignKey(Hearing, on_delete=OnDelete.restrict, index=True)
    resident = ForeignKey(Resident, null=True, on_delete=OnDelete.restrict)
    user = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    household = ForeignKey(Node, null=True, on_delete=OnDelete.restrict)
    name = Varchar(length=100)
    via = Varchar(length=8)  # online, qr, host
    arrived_at = Timestamptz()
    late = Boolean(default=False)
    left_at = Timestamptz(null=True, default=None)


class Speaker(Table, tablename="speaker"):
    """A place in an agenda item's speaker queue."""

    id = Serial(primary_key=True)
    hearing = ForeignKey(Hearing, on_delete=OnDelete.restrict, index=True)
    item = ForeignKey(AgendaItem, on_delete=OnDelete.restrict, index=True)
    resident = ForeignKey(Resident, null=True, on_delete=OnDelete.restrict)
    user = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    name = Varchar(length=100)
    via = Varchar(length=8)  # online, room
    status = Varchar(length=16, choices=SpeakerStatus)
    requested_at = Timestamptz()
    started_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    seconds = Integer(default=180)  # time given, extensions included


class Statement(Table, tablename="statement"):
    id = Serial(primary_key=True)
    hearing = ForeignKey(Hearing, on_delete=OnDelete.restrict, index=True)
    item = ForeignKey(AgendaItem, null=True, on_delete=OnDelete.restrict)
    speaker_name = Varchar(length=100)
    resident = ForeignKey(Resident, null=True, on_delete=OnDelete.restrict)
    summary = Text()
    spoken_at = Timestamptz()
    recorded_by = ForeignKey(User, on_delete=OnDelete.restrict)
    updated_at = Timestamptz()


class Motion(Table, tablename="motion"):
    """A motion, or an amendment to one (`amends`), with who moved and who seconded it."""

    id = Serial(primary_key=True)
    hearing = ForeignKey(Hearing, on_delete=OnDelete.restrict, index=True)
    item = ForeignKey(AgendaItem, null=True, on_delete=OnDelete.restrict)
    amends: ForeignKey[Motion] = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    text = Text()
    moved_by = Varchar(length=100)
    seconded_by = Varchar(length=100, default="")
    recorded_by = ForeignKey(User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Attachment(Table, tablename="hearing_attachment"):
    id = Serial(primary_key=True)
    hearing = ForeignKey(Hearing, on_delete=OnDelete.restrict, index=True)
    item = ForeignKey(AgendaItem, null=True, on_delete=OnDelete.restrict)
    filename = Varchar(length=200)
    content_type = Varchar(length=100)
    size = Integer()
    sha256 = Varchar(length=64)
    uploaded_by = ForeignKey(User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
