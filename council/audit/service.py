"""The append-only, hash-chained audit log.

hash = SHA-256(prev_hash ‖ canonical(entry without hashes)); the first prev_hash is 64 zeros.
`record` must run inside the write transaction of the change it describes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from council.audit.tables import AuditEntry
from council.canonical import canonical_bytes, sha256_hex
from council.db import engine, is_sqlite
from council.i18n import N_

GENESIS = "0" * 64
MISSING = N_("entry {seq} is missing (the next entry is {next})")
UNLINKED = N_("entry {seq} does not link to the entry before it (an entry was removed or inserted)")
UNREADABLE = N_("entry {seq} has unreadable data")
ALTERED = N_("entry {seq} was altered (its hash does not match)")
# Any constant: serialises appenders on PostgreSQL (SQLite writers are already serial).
_CHAIN_LOCK_KEY = 727_001


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str


SYSTEM = Actor(id=None, name="system")


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return sha256_hex(prev_hash.encode("ascii") + canonical_bytes(body))


def entry_body(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": _timestamp(at),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "data": data,
    }


async def record(
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Call inside the write transaction of the change."""
    return (await record_many([(actor, action, subject_type, subject_id, data or {})]))[0]


async def record_many(items: list[tuple[Actor, str, str, object, dict[str, Any]]]) -> list[AuditEntry]:
    """Append several entries in order, under one lock, with one read and one insert (for a
    batch of changes made in one transaction, such as ballots cast together)."""
    if not items:
        return []
    if not is_sqlite():
        await engine().run_ddl(f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK_KEY})")
    last = (
        await AuditEntry.select(AuditEntry.seq, AuditEntry.hash)
        .order_by(AuditEntry.seq, ascending=False)
        .first()
    )
    seq = 0 if last is None else last["seq"] + 1
    prev_hash = GENESIS if last is None else last["hash"]
    entries: list[AuditEntry] = []
    for actor, action, subject_type, subject_id, payload in items:
        fields: dict[str, Any] = {
            "seq": seq,
            "at": datetime.now(UTC),
            "actor_id": actor.id,
            "actor_name": actor.name,
            "action": action,
            "subject_type": subject_type,
            "subject_id": str(subject_id),
        }
        entry = AuditEntry(
            **fields,
            data=canonical_bytes(payload).decode("utf-8"),
            prev_hash=prev_hash,
            hash=entry_hash(prev_hash, entry_body(**fields, data=payload)),
        )
        entries.append(entry)
        prev_hash, seq = entry.hash, seq + 1
    if len(entries) == 1:
        await entries[0].save()
    else:
        await AuditEntry.insert(*entries)
    return entries


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None = None
    # An English message id with {seq}/{next} placeholders; `problem` fills it in.
    problem_template: str = ""
    next_seq: int | None = None

    def problem_in(self, translate: Callable[[str], str]) -> str:
        if not self.problem_template:
            return ""
        return translate(self.problem_template).format(seq=self.first_bad_seq, next=self.next_seq)

    @property
    def problem(self) -> str:
        return self.problem_in(str)


async def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Recompute every hash; name the first entry altered, removed or inserted."""
    expected_seq = 0
    prev_hash = GENESIS
    count = 0
    while True:
        rows = (
            await AuditEntry.select()
            .where(AuditEntry.seq >= expected_seq)
            .order_by(AuditEntry.seq)
            .limit(batch_size)
        )
        if not rows:
            break
        for row in rows:
            seq = row["seq"]
            if seq != expected_seq:
                return ChainReport(False, count, prev_hash, expected_seq, MISSING, next_seq=seq)
            if row["prev_hash"] != prev_hash:
                return ChainReport(False, count, prev_hash, seq, UNLINKED)
            try:
                data = json.loads(row["data"])
            except ValueError:
                return ChainReport(False, count, prev_hash, seq, UNREADABLE)
            body = entry_body(
                seq=seq,
                at=row["at"],
                actor_id=row["actor_id"],
                actor_name=row["actor_name"],
                action=row["action"],
                subject_type=row["subject_type"],
                subject_id=row["subject_id"],
                data=data,
            )
            if entry_hash(prev_hash, body) != row["hash"]:
                return ChainReport(False, count, prev_hash, seq, ALTERED)
            prev_hash = row["hash"]
            expected_seq += 1
            count += 1
    return ChainReport(True, count, prev_hash)


async def entries(
    *, offset: int = 0, limit: int = 50, subject_type: str | None = None, subject_id: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    query = AuditEntry.select().order_by(AuditEntry.seq, ascending=False)
    count_query = AuditEntry.count()
    if subject_type:
        query = query.where(AuditEntry.subject_type == subject_type)
        count_query = count_query.where(AuditEntry.subject_type == subject_type)
    if subject_id:
        query = query.where(AuditEntry.subject_id == subject_id)
        count_query = count_query.where(AuditEntry.subject_id == subject_id)
    rows = await query.offset(offset).limit(limit)
    for row in rows:
        row["data"] = json.loads(row["data"])
    return rows, await count_query
