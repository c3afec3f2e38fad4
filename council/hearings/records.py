"""The secretary's record: statements, motions and amendments, attachments. Editable until
the minutes are sealed (`Hearing.sealed_at`, set by the minutes step)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from council.accounts.principal import Principal
from council.audit import service as audit
from council.db import write_transaction
from council.errors import Conflict, Invalid, NotFound
from council.hearings import live
from council.hearings.service import bump, get_row, now, require_secretary
from council.hearings.tables import AgendaItem, Attachment, HearingStatus, Motion, Statement
from council.i18n import N_

ATTACHMENT_TYPES = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "text/plain": ".txt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
MAX_ATTACHMENT = 10 * 1024 * 1024


def _editable(row: dict[str, Any]) -> None:
    if row["sealed_at"] is not None:
        raise Conflict(N_("The minutes are sealed: the record can no longer change."))
    if row["status"] in (HearingStatus.scheduled.value, HearingStatus.cancelled.value):
        raise Conflict(N_("The record starts when the hearing does."))


async def _check_item(hearing_id: int, item_id: int | None) -> None:
    if item_id is not None and not await AgendaItem.exists().where(
        (AgendaItem.id == item_id) & (AgendaItem.hearing == hearing_id)
    ):
        raise NotFound(N_("No agenda item {id} in this hearing."), id=item_id)


async def record_statement(
    principal: Principal,
    hearing_id: int,
    *,
    speaker_name: str,
    summary: str,
    item_id: int | None = None,
    resident_id: int | None = None,
    spoken_at: datetime | None = None,
) -> int:
    row = await get_row(hearing_id)
    require_secretary(principal, row)
    _editable(row)
    await _check_item(hearing_id, item_id)
    speaker_name, summary = speaker_name.strip(), summary.strip()
    if not speaker_name or not summary:
        raise Invalid(N_("A statement needs the speaker's name and a summary."))
    stamp = now()
    async with write_transaction():
        statement = Statement(
            hearing=hearing_id,
            item=item_id,
            speaker_name=speaker_name[:100],
            resident=resident_id,
            summary=summary,
            spoken_at=spoken_at or stamp,
            recorded_by=principal.id,
            updated_at=stamp,
        )
        await statement.save()
        await audit.record(
            principal.actor,
            "record_statement",
            "hearing",
            hearing_id,
            {"statement_id": statement.id, "speaker": speaker_name[:100], "summary": summary},
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "record")
    return int(statement.id)


async def edit_statement(principal: Principal, hearing_id: int, statement_id: int, *, summary: str) -> None:
    row = await get_row(hearing_id)
    require_secretary(principal, row)
    _editable(row)
    summary = summary.strip()
    if not summary:
        raise Invalid(N_("A statement needs the speaker's name and a summary."))
    async with write_transaction():
        updated = (
            await Statement.update({Statement.summary: summary, Statement.updated_at: now()})
            .where((Statement.id == statement_id) & (Statement.hearing == hearing_id))
            .returning(Statement.id)
        )
        if not updated:
            raise NotFound(N_("No statement {id} in this hearing."), id=statement_id)
        await audit.record(
            principal.actor,
            "edit_statement",
            "hearing",
            hearing_id,
            {"statement_id": statement_id, "summary": summary},
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "record")


async def record_motion(
    principal: Principal,
    hearing_id: int,
    *,
    text: str,
    moved_by: str,
    seconded_by: str = "",
    item_id: int | None = None,
    amends: int | None = None,
) -> int:
    row = await get_row(hearing_id)
    require_secretary(principal, row)
    _editable(row)
    await _check_item(hearing_id, item_id)
    text, moved_by, seconded_by = text.strip(), moved_by.strip(), seconded_by.strip()
    if not text or not moved_by:
        raise Invalid(N_("A motion needs its text and who moved it."))
    if seconded_by and seconded_by == moved_by:
        raise Invalid(N_("The seconder must be someone other than the mover."))
    if amends is not None and not await Motion.exists().where(
        (Motion.id == amends) & (Motion.hearing == hearing_id)
    ):
        raise NotFound(N_("No motion {id} in this hearing."), id=amends)
    stamp = now()
    async with write_transaction():
        motion = Motion(
            hearing=hearing_id,
            item=item_id,
            amends=amends,
            text=text,
            moved_by=moved_by[:100],
            seconded_by=seconded_by[:100],
            recorded_by=principal.id,
            created_at=stamp,
            updated_at=stamp,
        )
        await motion.save()
        await audit.record(
            principal.actor,
            "record_motion",
            "hearing",
            hearing_id,
            {
                "motion_id": motion.id,
                "amends": amends,
                "text": text,
                "moved_by": moved_by,
                "seconded_by": seconded_by,
            },
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "record")
    return int(motion.id)


def attachment_path(data_dir: Path, sha256: str) -> Path:
    return data_dir / "attachments" / sha256[:2] / sha256


async def attach(
    principal: Principal,
    hearing_id: int,
    *,
    data_dir: Path,
    filename: str,
    content_type: str,
    content: bytes,
    item_id: int | None = None,
) -> int:
    row = await get_row(hearing_id)
    require_secretary(principal, row)
    _editable(row)
    await _check_item(hearing_id, item_id)
    if content_type not in ATTACHMENT_TYPES:
        raise Invalid(N_("Attachments are PDF, JPEG, PNG, plain text or Word (.docx) files."))
    if not content or len(content) > MAX_ATTACHMENT:
        raise Invalid(N_("An attachment is at most 10 MB and not empty."))
    digest = hashlib.sha256(content).hexdigest()
    path = attachment_path(data_dir, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_suffix(".part")
        temporary.write_bytes(content)
        temporary.replace(path)
    name = Path(filename or "attachment").name[:200] or "attachment"
    async with write_transaction():
        attachment = Attachment(
            hearing=hearing_id,
            item=item_id,
            filename=name,
            content_type=content_type,
            size=len(content),
            sha256=digest,
            uploaded_by=principal.id,
            created_at=now(),
        )
        await attachment.save()
        await audit.record(
            principal.actor,
            "attach_file",
            "hearing",
            hearing_id,
            {"attachment_id": attachment.id, "filename": name, "sha256": digest, "size": len(content)},
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "record")
    return int(attachment.id)


async def record_of(hearing_id: int) -> dict[str, Any]:
    statements = await Statement.select().where(Statement.hearing == hearing_id).order_by(Statement.spoken_at)
    motions = await Motion.select().where(Motion.hearing == hearing_id).order_by(Motion.id)
    attachments = (
        await Attachment.select(
            Attachment.id,
            Attachment.item,
            Attachment.filename,
            Attachment.content_type,
            Attachment.size,
            Attachment.sha256,
            Attachment.created_at,
        )
        .where(Attachment.hearing == hearing_id)
        .order_by(Attachment.id)
    )
    return {"statements": statements, "motions": motions, "attachments": attachments}
