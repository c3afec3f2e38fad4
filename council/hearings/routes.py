"""JSON API of hearings: schedule and agenda, check-in, the host's console, the secretary's
record, the live state and its event stream (Server-Sent Events)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from litestar import Controller, Request, delete, get, post, put
from litestar.channels import ChannelsPlugin
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Stream

from council.accounts.guards import principal_of, requires_login
from council.hearings import attendance, floor, live, queries, records, service
from council.hearings.schemas import (
    CheckInIn,
    CloseItemIn,
    ExtendIn,
    FloorIn,
    HearingIn,
    ItemIn,
    LeaveIn,
    MotionIn,
    MoveIn,
    PresentIn,
    ReasonIn,
    SkipIn,
    SpeakerIn,
    StatementEditIn,
    StatementIn,
)
from council.web import Paging, require_principal, settings_of

Req = Request[Any, Any, Any]
KEEPALIVE_SECONDS = 15.0


def _item(data: ItemIn) -> dict[str, Any]:
    return {"title": data.title, "proposal_id": data.proposal_id, "minutes_budget": data.minutes_budget}


async def _live(hearing_id: int) -> dict[str, Any]:
    current = await live.state(hearing_id)
    if current is None:
        await service.get_row(hearing_id)  # raises NotFound
        raise AssertionError("unreachable")
    return current


class HearingsApi(Controller):
    path = "/api/v1/hearings"
    tags = ["hearings"]

    @get("/", opt={"public": True})
    async def find(
        self,
        request: Req,
        status: Annotated[str | None, Parameter(max_length=16)] = None,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 20,
    ) -> dict[str, Any]:
        page = Paging.of(offset, limit)
        rows, total = await queries.find(status=status, offset=page.offset, limit=page.limit)
        return {"items": rows, "total": total, "offset": page.offset, "limit": page.limit}

    @post("/", status_code=201, guards=[requires_login])
    async def schedule(self, request: Req, data: HearingIn) -> dict[str, Any]:
        new_id = await service.schedule(
            require_principal(request),
            kind=data.kind,
            title=data.title,
            description=data.description,
            scope_id=data.scope_id,
            starts_at=data.starts_at,
            place=data.place,
            online=data.online,
            host_id=data.host_id,
            secretary_id=data.secretary_id,
            invitees=data.invitees,
            quorum_permille=data.quorum_permille,
            speaking_seconds=data.speaking_seconds,
            items=[_item(i) for i in data.items],
        )
        return {"id": new_id, "url": f"/hearings/{new_id}"}

    @get("/{hearing_id:int}", opt={"public": True})
    async def show(self, request: Req, hearing_id: int) -> dict[str, Any]:
        """The hearing with its agenda and outcomes; attendees and the record for those who may see them."""
        return await queries.detail(principal_of(request), hearing_id)

    @get("/{hearing_id:int}/live", opt={"public": True})
    async def live_state(self, hearing_id: int) -> dict[str, Any]:
        """What the live pages show; a client that reconnects starts here."""
        return await _live(hearing_id)

    @get("/{hearing_id:int}/events", opt={"public": True})
    async def events(self, hearing_id: int, channels: ChannelsPlugin) -> Stream:
        """Server-Sent Events: `state` (the whole live state, with its version) now and after every change."""
        await service.get_row(hearing_id)  # raises NotFound
        name = live.channel(hearing_id)

        async def stream() -> AsyncIterator[bytes]:
            # Subscribed before the first state is read, so no change in between is missed;
            # the subscription ends however the stream does (a client gone cancels it).
            with anyio.CancelScope(shield=True):
                subscriber = await channels.subscribe([name])
            waiting: asyncio.Future[bytes] | None = None
            try:
                current = await live.state(hearing_id)
                if current is None:
                    return
                sent = int(current["version"])
                yield live.frame(current).encode()
                events = subscriber.iter_events()
                while True:
                    # One pending read across keep-alives: cancelling it would end the iterator.
                    if waiting is None:
                        waiting = asyncio.ensure_future(anext(events))
                    done, _ = await asyncio.wait({waiting}, timeout=KEEPALIVE_SECONDS)
                    if not done:
                        yield b": keep-alive\r\n\r\n"
                        continue
                    try:
                        message = waiting.result()
                    except StopAsyncIteration:
                        return
                    waiting = None
                    version = live.frame_version(message)
                    if version > sent:  # messages from several processes may cross: never go back
                        sent = version
                        yield message
            finally:
                if waiting is not None:
                    waiting.cancel()
                with anyio.CancelScope(shield=True):
                    await channels.unsubscribe(subscriber, [name])

        return Stream(
            stream(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    @post("/{hearing_id:int}/cancel", status_code=200, guards=[requires_login])
    async def cancel(self, request: Req, hearing_id: int, data: ReasonIn) -> None:
        await service.cancel(require_principal(request), hearing_id, data.reason)

    @post("/{hearing_id:int}/items", status_code=201, guards=[requires_login])
    async def add_item(self, request: Req, hearing_id: int, data: ItemIn) -> dict[str, Any]:
        return {"id": await service.add_item(require_principal(request), hearing_id, _item(data))}

    @put("/{hearing_id:int}/items/{item_id:int}/position", status_code=200, guards=[requires_login])
    async def move_item(self, request: Req, hearing_id: int, item_id: int, data: MoveIn) -> None:
        await service.move_item(require_principal(request), hearing_id, item_id, data.position)

    @delete("/{hearing_id:int}/items/{item_id:int}", status_code=204, guards=[requires_login])
    async def remove_item(self, request: Req, hearing_id: int, item_id: int) -> None:
        await service.remove_item(require_principal(request), hearing_id, item_id)

    @post("/{hearing_id:int}/start", status_code=200, guards=[requires_login])
    async def start(self, request: Req, hearing_id: int) -> dict[str, Any]:
        await service.start(require_principal(request), hearing_id)
        return await _live(hearing_id)

    @post("/{hearing_id:int}/end", status_code=200, guards=[requires_login])
    async def end(self, request: Req, hearing_id: int) -> dict[str, Any]:
        await service.end(require_principal(request), hearing_id)
        return await _live(hearing_id)

    # check-in -----------------------------------------------------------------------------

    @post("/{hearing_id:int}/check-in", status_code=200, guards=[requires_login])
    async def check_in(self, request: Req, hearing_id: int, data: CheckInIn) -> dict[str, Any]:
        """Online, or with the code of the QR shown in the room."""
        added = await attendance.check_in(
            require_principal(request), hearing_id, code=data.code, secret=settings_of(request).secret_key
        )
        return {"checked_in": True, "new": added}

    @get("/{hearing_id:int}/check-in-code", guards=[requires_login])
    async def check_in_code(self, request: Req, hearing_id: int) -> dict[str, Any]:
        """The host's short-lived code (shown as a QR code on the host's screen)."""
        row = await service.get_row(hearing_id)
        service.require_host(require_principal(request), row)
        code = attendance.qr_code(settings_of(request).secret_key, hearing_id)
        base = settings_of(request).base_url.rstrip("/")
        return {**code, "url": f"{base}/hearings/{hearing_id}/check-in?code={code['code']}"}

    @get("/{hearing_id:int}/me", guards=[requires_login])
    async def viewer(self, request: Req, hearing_id: int) -> dict[str, Any]:
        """The one asking, at this hearing: invited, present now, host (the live page asks
        again when the attendance changes, as the host may have marked her present)."""
        return await attendance.viewer(require_principal(request), await service.get_row(hearing_id))

    @post("/{hearing_id:int}/present", status_code=200, guards=[requires_login])
    async def mark_present(self, request: Req, hearing_id: int, data: PresentIn) -> dict[str, Any]:
        added = await attendance.mark_present(require_principal(request), hearing_id, data.resident_id)
        return {"checked_in": True, "new": added}

    @post("/{hearing_id:int}/leave", status_code=200, guards=[requires_login])
    async def leave(self, request: Req, hearing_id: int, data: LeaveIn) -> None:
        await attendance.leave(require_principal(request), hearing_id, data.attendance_id)

    @get("/{hearing_id:int}/attendance", guards=[requires_login])
    async def attendees(self, request: Req, hearing_id: int) -> dict[str, Any]:
        row = await service.get_row(hearing_id)
        principal = require_principal(request)
        if not (service.is_secretary(principal, row) or service.can_organise(principal, row)):
            from council.errors import Forbidden
            from council.i18n import N_

            raise Forbidden(N_("Only the hearing's host, secretary and organisers see who came."))
        return {"items": await attendance.attendees(hearing_id), "counts": await attendance.counts(row)}

    # the floor ----------------------------------------------------------------------------

    @post("/{hearing_id:int}/items/{item_id:int}/open", status_code=200, guards=[requires_login])
    async def open_item(self, request: Req, hearing_id: int, item_id: int) -> dict[str, Any]:
        await floor.open_item(require_principal(request), hearing_id, item_id)
        return await _live(hearing_id)

    @post("/{hearing_id:int}/items/{item_id:int}/close", status_code=200, guards=[requires_login])
    async def close_item(
        self, request: Req, hearing_id: int, item_id: int, data: CloseItemIn
    ) -> dict[str, Any]:
        done = await floor.close_item(
            require_principal(request),
            hearing_id,
            item_id,
            outcome=data.outcome,
            text=data.text,
            defer_to=data.defer_to,
            assignee_id=data.assignee_id,
            ballot=data.ballot,
        )
        return {**done, "state": await _live(hearing_id)}

    @post("/{hearing_id:int}/floor/request", status_code=201, guards=[requires_login])
    async def request_floor(self, request: Req, hearing_id: int) -> dict[str, Any]:
        return {"id": await floor.request_floor(require_principal(request), hearing_id)}

    @post("/{hearing_id:int}/floor/withdraw", status_code=200, guards=[requires_login])
    async def withdraw(self, request: Req, hearing_id: int) -> None:
        await floor.withdraw(require_principal(request), hearing_id)

    @post("/{hearing_id:int}/floor/add", status_code=201, guards=[requires_login])
    async def add_speaker(self, request: Req, hearing_id: int, data: SpeakerIn) -> dict[str, Any]:
        """The host adds someone in the room to the queue."""
        new_id = await floor.add_speaker(
            require_principal(request), hearing_id, name=data.name, resident_id=data.resident_id
        )
        return {"id": new_id}

    @post("/{hearing_id:int}/floor/give", status_code=200, guards=[requires_login])
    async def give_floor(self, request: Req, hearing_id: int, data: FloorIn) -> dict[str, Any]:
        return {"speaker_id": await floor.give_floor(require_principal(request), hearing_id, data.speaker_id)}

    @post("/{hearing_id:int}/floor/next", status_code=200, guards=[requires_login])
    async def next_speaker(self, request: Req, hearing_id: int) -> dict[str, Any]:
        return {"speaker_id": await floor.next_speaker(require_principal(request), hearing_id) or None}

    @post("/{hearing_id:int}/floor/skip", status_code=200, guards=[requires_login])
    async def skip(self, request: Req, hearing_id: int, data: SkipIn) -> None:
        await floor.skip(require_principal(request), hearing_id, data.speaker_id)

    @post("/{hearing_id:int}/floor/extend", status_code=200, guards=[requires_login])
    async def extend(self, request: Req, hearing_id: int, data: ExtendIn) -> None:
        await floor.extend(require_principal(request), hearing_id, data.seconds)

    # the record ---------------------------------------------------------------------------

    @post("/{hearing_id:int}/statements", status_code=201, guards=[requires_login])
    async def record_statement(self, request: Req, hearing_id: int, data: StatementIn) -> dict[str, Any]:
        new_id = await records.record_statement(
            require_principal(request),
            hearing_id,
            speaker_name=data.speaker_name,
            summary=data.summary,
            item_id=data.item_id,
            resident_id=data.resident_id,
            spoken_at=data.spoken_at,
        )
        return {"id": new_id}

    @put("/{hearing_id:int}/statements/{statement_id:int}", status_code=200, guards=[requires_login])
    async def edit_statement(
        self, request: Req, hearing_id: int, statement_id: int, data: StatementEditIn
    ) -> None:
        await records.edit_statement(
            require_principal(request), hearing_id, statement_id, summary=data.summary
        )

    @post("/{hearing_id:int}/motions", status_code=201, guards=[requires_login])
    async def record_motion(self, request: Req, hearing_id: int, data: MotionIn) -> dict[str, Any]:
        new_id = await records.record_motion(
            require_principal(request),
            hearing_id,
            text=data.text,
            moved_by=data.moved_by,
            seconded_by=data.seconded_by,
            item_id=data.item_id,
            amends=data.amends,
        )
        return {"id": new_id}

    @post("/{hearing_id:int}/attachments", status_code=201, guards=[requires_login])
    async def attach(
        self,
        request: Req,
        hearing_id: int,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> dict[str, Any]:
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            from council.errors import Invalid
            from council.i18n import N_

            raise Invalid(N_("Choose a file to attach."))
        item = data.get("item_id")
        new_id = await records.attach(
            require_principal(request),
            hearing_id,
            data_dir=settings_of(request).data_dir,
            filename=upload.filename,
            content_type=upload.content_type,
            content=await upload.read(),
            item_id=int(item) if item not in (None, "") else None,
        )
        return {"id": new_id}


HANDLERS = [HearingsApi]
