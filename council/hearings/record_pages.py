"""HTML pages of a hearing's record, kept by its secretary (or host): the record page, its
verbs (statements, their edits, motions, attached files) and the attachments, which
everyone logged in may fetch.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.response import File, Redirect, Template

from council.accounts.guards import requires_login
from council.accounts.principal import Principal
from council.errors import DomainError, Forbidden, Invalid, NotFound
from council.hearings import attendance, records, service
from council.hearings.page_common import TERMS, Req, form_maybe, form_number, form_text, live_state, zone_of
from council.hearings.tables import Attachment, HearingStatus, Statement
from council.i18n import N_
from council.web import flash, redirect, require_principal, settings_of


async def _secretary_row(request: Req, hearing_id: int) -> tuple[Principal, dict[str, Any]]:
    principal = require_principal(request)
    row = await service.get_row(hearing_id)
    if not service.is_secretary(principal, row):
        raise Forbidden(N_("Only the hearing's secretary or host can keep its record."))
    return principal, row


# The record ---------------------------------------------------------------------------------


def _spoken_at(text: str, row: Mapping[str, Any], zone: ZoneInfo) -> datetime | None:
    """ "14:05" on the day the hearing started, in the community's zone; empty for now."""
    text = text.strip()
    if not text:
        return None
    try:
        hour, minute = (int(part) for part in text.split(":")[:2])
        day: datetime = (row["started_at"] or row["starts_at"]).astimezone(zone)
        return day.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)
    except (ValueError, TypeError):
        raise Invalid(N_("The time is hours and minutes, for example 14:05.")) from None


async def _people_named(hearing_id: int, name: str) -> int | None:
    """The resident behind a speaker's name, when exactly one attendee carries it."""
    found = {
        a["resident"] for a in await attendance.attendees(hearing_id) if a["name"] == name and a["resident"]
    }
    return found.pop() if len(found) == 1 else None


class HearingRecordPages(Controller):
    path = "/hearings"
    include_in_schema = False

    @get("/{hearing_id:int}/record", guards=[requires_login])
    async def record(self, request: Req, hearing_id: int) -> Template:
        _, row = await _secretary_row(request, hearing_id)
        return await _record_page(request, row)

    @post("/{hearing_id:int}/record/{verb:str}", guards=[requires_login])
    async def record_verb(self, request: Req, hearing_id: int, verb: str) -> Template | Redirect:
        principal, row = await _secretary_row(request, hearing_id)
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
        try:
            if verb == "statement":
                speaker = form_text(form, "speaker_name", 100).strip()
                await records.record_statement(
                    principal,
                    hearing_id,
                    speaker_name=speaker,
                    summary=form_text(form, "summary"),
                    item_id=form_maybe(form, "item_id"),
                    resident_id=await _people_named(hearing_id, speaker),
                    spoken_at=_spoken_at(form_text(form, "time", 10), row, zone_of(request)),
                )
                message = N_("The statement is recorded.")
            elif verb == "edit":
                await records.edit_statement(
                    principal,
                    hearing_id,
                    form_number(form, "statement_id", N_("a statement")),
                    summary=form_text(form, "summary"),
                )
                message = N_("Saved.")
            elif verb == "motion":
                await records.record_motion(
                    principal,
                    hearing_id,
                    text=form_text(form, "text"),
                    moved_by=form_text(form, "moved_by", 100),
                    seconded_by=form_text(form, "seconded_by", 100),
                    item_id=form_maybe(form, "item_id"),
                    amends=form_maybe(form, "amends"),
                )
                message = N_("The motion is recorded.")
            elif verb == "attach":
                upload = form.get("file")
                if not isinstance(upload, UploadFile) or not upload.filename:
                    raise Invalid(N_("Choose a file to attach."))
                await records.attach(
                    principal,
                    hearing_id,
                    data_dir=settings_of(request).data_dir,
                    filename=upload.filename,
                    content_type=upload.content_type,
                    content=await upload.read(),
                    item_id=form_maybe(form, "item_id"),
                )
                message = N_("The file is attached.")
            else:
                raise NotFound(N_("Unknown action."))
        except DomainError as error:
            if isinstance(error, Forbidden):
                raise
            row = await service.get_row(hearing_id)
            return await _record_page(request, row, verb, values, error)
        flash(request, message)
        return redirect(f"/hearings/{hearing_id}/record#{verb}")

    @get("/{hearing_id:int}/attachments/{attachment_id:int}", guards=[requires_login])
    async def attachment(self, request: Req, hearing_id: int, attachment_id: int) -> File:
        """An attachment of the record: for those logged in, who see the record."""
        row = (
            await Attachment.select()
            .where((Attachment.id == attachment_id) & (Attachment.hearing == hearing_id))
            .first()
        )
        if row is None:
            raise NotFound(N_("No attachment {id} in this hearing."), id=attachment_id)
        path = records.attachment_path(settings_of(request).data_dir, row["sha256"])
        if not path.exists():
            raise NotFound(N_("No attachment {id} in this hearing."), id=attachment_id)
        return File(path=path, filename=row["filename"], media_type=row["content_type"])


async def _record_page(
    request: Req,
    row: Mapping[str, Any],
    verb: str = "",
    values: Mapping[str, str] | None = None,
    error: DomainError | None = None,
) -> Template:
    hearing_id = row["id"]
    state = await live_state(hearing_id)
    kept = await records.record_of(hearing_id)
    people = await attendance.attendees(hearing_id)
    names = sorted({a["name"] for a in people} | {q["name"] for q in state["queue"]})
    if state["speaking"]:
        names = sorted(set(names) | {state["speaking"]["name"]})
    spoken = await Statement.select(Statement.speaker_name).where(Statement.hearing == hearing_id)
    names = sorted(set(names) | {s["speaker_name"] for s in spoken})
    titles = {i["id"]: i["title"] for i in state["items"]}
    motions = kept["motions"]
    for motion in motions:
        motion["amendments"] = [m for m in motions if m["amends"] == motion["id"]]
    return Template(
        "hearings/record.html",
        context={
            "h": row,
            "s": state,
            "statements": kept["statements"],
            "motions": [m for m in motions if m["amends"] is None],
            "all_motions": motions,
            "attachments": kept["attachments"],
            "titles": titles,
            "names": names,
            "speaker_now": state["speaking"]["name"] if state["speaking"] else "",
            "editable": row["sealed_at"] is None
            and row["status"] in (HearingStatus.running.value, HearingStatus.ended.value),
            "verb": verb,
            "v": values or {},
            "error": error.detail() if error else "",
            "types": ", ".join(sorted(records.ATTACHMENT_TYPES.values())),
            "max_mb": min(records.MAX_ATTACHMENT, settings_of(request).max_upload_bytes) // (1024 * 1024),
            **TERMS,
        },
        status_code=error.status_code if error else 200,
    )


HANDLERS = [HearingRecordPages]
