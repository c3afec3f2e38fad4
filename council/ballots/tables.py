"""The ballots' tables: a ballot, its trustees, its frozen roster, its board and its proxies.

The board is the ballot's own hash-chained log (shared/BALLOTS.md, "Bulletin board"):
`BoardEntry.payload` holds the canonical JSON the hash covers, so the record is the rows
read back in seq order. Nothing here cascades: a ballot's rows outlive any roster change.
"""

from __future__ import annotations

from enum import Enum

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from council.accounts.tables import User
from council.community.tables import Node, Resident
from council.i18n import N_, Term
from council.proposals.tables import Proposal


class BallotStatus(str, Enum):
    draft = "draft"  # questions, rule, times and trustees can still change
    keygen = "keygen"  # parameters frozen (F₀ once every box key is in); trustees deal and check
    failed = "failed"  # a trustee's complaint stopped the key generation
    ready = "ready"  # the election key exists; the ballot can open
    open = "open"  # manifest and roster frozen (F); votes are taken inside the window
    closed = "closed"  # no more votes; trustees post decryption shares
    tallied = "tallied"  # the result is on the board
    withdrawn = "withdrawn"  # taken back before it opened (from draft, keygen, failed or ready)


STATUS_TERMS = {
    BallotStatus.draft: Term(N_("Draft")),
    BallotStatus.keygen: Term(N_("Trustees are generating the key")),
    BallotStatus.failed: Term(N_("Key generation stopped")),
    BallotStatus.ready: Term(N_("Ready to open")),
    BallotStatus.open: Term(N_("Voting")),
    BallotStatus.closed: Term(N_("Closed, counting")),
    BallotStatus.tallied: Term(N_("Result published")),
    BallotStatus.withdrawn: Term(N_("Withdrawn")),
}


class BallotSecrecy(str, Enum):
    secret = "secret"
    open = "open"


class WeightBasis(str, Enum):
    resident = "resident"
    household = "household"


class Ballot(Table, tablename="ballot"):
    """One vote on one or more questions. `parameters` is what F₀ hashes (JSON), `manifest`
    the full manifest from the moment it opens; `head` and `length` track the board."""

    id = Serial(primary_key=True)
    title = Varchar(length=100)
    description = Text(default="")
    proposal = ForeignKey(Proposal, null=True, on_delete=OnDelete.restrict, index=True)
    scope = ForeignKey(Node, on_delete=OnDelete.restrict, index=True)
    scope_path = Varchar(length=255, index=True)
    secrecy = Varchar(length=8, choices=BallotSecrecy)
    weight_basis = Varchar(length=16, choices=WeightBasis)
    status = Varchar(length=16, choices=BallotStatus, index=True)
    questions = Text()  # JSON list of {text, options, min, max, costs, budget}
    rule = Text()  # JSON, see council/ballots/rules.py
    t = Integer(default=0)
    n = Integer(default=0)
    opens_at = Timestamptz()
    closes_at = Timestamptz()
    created_by = ForeignKey(User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    parameters = Text(default="")  # canonical JSON that F₀ hashes, once fixed
    f0 = Varchar(length=64, default="")
    manifest = Text(default="")  # canonical JSON, once open
    fingerprint = Varchar(length=64, default="")
    public_key = Varchar(length=64, default="")  # Y, once open (secret ballots)
    head = Varchar(length=64, default="")
    length = Integer(default=0)
    sums = Text(default="")  # JSON [[{A, B}]] once closed (secret ballots)
    counted = Text(default="")  # JSON [alias] whose last ballot counts, once closed
    result = Text(default="")  # result.json, once tallied
    failure = Text(default="")  # why key generation stopped
    opened_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    tallied_at = Timestamptz(null=True, default=None)
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_reason = Text(null=True, default=None)  # the public reason, once withdrawn


class Trustee(Table, tablename="ballot_trustee"):
    """A supervisor holding a key share. Public parts only: the secrets stay in her key file."""

    id = Serial(primary_key=True)
    ballot = ForeignKey(Ballot, on_delete=OnDelete.restrict, index=True)
    position = Integer()  # the trustee's index j, 1..n
    user = ForeignKey(User, on_delete=OnDelete.restrict)
    name = Varchar(length=100)
    box_key = Varchar(length=64, default="")
    commitments = Text(default="")  # JSON [hex]
    pok = Text(default="")  # JSON {c, s}
    sealed = Text(default="")  # JSON {"j": hex}: f_i(j) sealed to trustee j
    checked_at = Timestamptz(null=True, default=None)  # she opened and checked her shares
    share_posted_at = Timestamptz(null=True, default=None)


class RosterEntry(Table, tablename="ballot_roster"):
    """The roster snapshot: who may vote under which alias and weight, frozen at opening."""

    id = Serial(primary_key=True)
    ballot = ForeignKey(Ballot, on_delete=OnDelete.restrict, index=True)
    alias = Varchar(length=100)
    weight = Integer(default=1)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict)  # who casts for this alias
    household = ForeignKey(Node, on_delete=OnDelete.restrict)
    voter_name = Varchar(length=100)  # shown on open ballots only
    position = Integer()  # order in the manifest's roster


class BoardEntry(Table, tablename="ballot_board"):
    id = Serial(primary_key=True)
    ballot = ForeignKey(Ballot, on_delete=OnDelete.restrict, index=True)
    seq = Integer()
    kind = Varchar(length=16)
    payload = Text()  # canonical JSON
    prev = Varchar(length=64)
    hash = Varchar(length=64)
    alias = Varchar(length=100, null=True, default=None)
    tracking_code = Varchar(length=64, null=True, default=None)
    cast_by = ForeignKey(Resident, null=True, on_delete=OnDelete.restrict)  # a proxy's delegate
    created_at = Timestamptz()


class Ciphertext(Table, tablename="ballot_ciphertext"):
    """Every α on the board, unique per ballot: a copied ciphertext is refused."""

    id = Serial(primary_key=True)
    ballot = ForeignKey(Ballot, on_delete=OnDelete.restrict)
    alpha = Varchar(length=64)


class Proxy(Table, tablename="ballot_proxy"):
    """委托: the delegator's written consent lets the delegate cast under her alias."""

    id = Serial(primary_key=True)
    ballot = ForeignKey(Ballot, on_delete=OnDelete.restrict, index=True)
    delegator = ForeignKey(Resident, on_delete=OnDelete.restrict)
    delegate = ForeignKey(Resident, on_delete=OnDelete.restrict)
    consent = Text()  # how the written consent was given (e.g. "signed form no. 12, kept by staff")
    recorded_by = ForeignKey(User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
