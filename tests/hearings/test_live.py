"""Live updates of a hearing across connections, processes and restarts.

In process (the ASGI app driven directly, so the stream is read as it is sent): a change
reaches a connected client, the stream outlives its keep-alives, skips stale messages and
ends its subscription when the client goes. On real servers (`council serve`, granian; httpx
streaming): two processes sharing Redis both deliver a change made through either, and
nothing from another deployment on the same Redis; a server killed mid-hearing comes back
with the same queue, speaker, deadline and attendance, and a reconnecting client gets that
state first.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from council.hearings import live, routes
from tests.ballots.support_load import LiveServer, database_url
from tests.hearings.helpers import bearer, hearing_body, hearing_people

REDIS_URL = os.environ.get("COUNCIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
WAIT = 10.0  # seconds: the longest any one event may take to arrive

State = dict[str, Any]


# -- reading a stream -----------------------------------------------------------------------


class EventParser:
    """Server-Sent Events from text as it arrives: dispatched events into a queue
    ({"event", "id", "data"}; comments as {"comment"}); None once the stream ended."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, str] | None] = asyncio.Queue()
        self._pending = ""
        self._event: dict[str, str] = {}

    def feed(self, text: str) -> None:
        self._pending += text.replace("\r\n", "\n").replace("\r", "\n")
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self.line(line)

    def line(self, line: str) -> None:
        if line == "":
            if self._event:
                self.queue.put_nowait(self._event)
            self._event = {}
        elif line.startswith(":"):
            self.queue.put_nowait({"comment": line[1:].strip()})
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            self._event[name] = f"{self._event[name]}\n{value}" if name in self._event else value

    def end(self) -> None:
        self.queue.put_nowait(None)

    async def next(self, timeout: float = WAIT) -> dict[str, str] | None:
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def state(self, where: Callable[[State], bool] = lambda s: True, timeout: float = WAIT) -> State:
        """The next `state` event for which `where` holds (earlier ones are passed over)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: list[int] = []
        while True:
            try:
                item = await self.next(max(0.01, deadline - loop.time()))
            except TimeoutError:
                raise AssertionError(f"no matching state within {timeout} s; versions seen: {seen}") from None
            if item is None:
                raise AssertionError(f"the stream ended; versions seen: {seen}")
            if item.get("event") != "state":
                continue
            current: State = json.loads(item["data"])
            assert int(item["id"]) == current["version"], item["id"]
            seen.append(current["version"])
            if where(current):
                return current


class HttpStream(EventParser):
    """GET /api/v1/hearings/{id}/events on a real server, read by httpx in a task."""

    def __init__(self, base: str, hearing_id: int) -> None:
        super().__init__()
        self.url = f"{base}/api/v1/hearings/{hearing_id}/events"
        self.status: int | None = None
        self.error: Exception | None = None
        self._task: asyncio.Task[None] | None = None
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(WAIT, read=None))

    async def __aenter__(self) -> HttpStream:
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        try:
            async with self._client.stream("GET", self.url) as response:
                self.status = response.status_code
                async for text in response.aiter_text():
                    self.feed(text)
        except httpx.HTTPError as exc:
            self.error = exc
        finally:
            self.end()

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._client.aclose()


class AsgiStream(EventParser):
    """The same request given straight to the ASGI app: every body chunk is seen as it is
    sent (test clients buffer streams), and leaving the block is the client's disconnect."""

    def __init__(self, app: Any, hearing_id: int) -> None:
        super().__init__()
        self.app = app
        self.path = f"/api/v1/hearings/{hearing_id}/events"
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self._asked = False
        self._gone = asyncio.Event()
        self.flowing = asyncio.Event()  # cleared: the client stops reading (a stalled phone)
        self.flowing.set()
        self._task: asyncio.Task[None] | None = None

    async def _receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            await self.flowing.wait()
            self.feed(message.get("body", b"").decode())
            if not message.get("more_body", False):
                self.end()

    async def __aenter__(self) -> AsgiStream:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver.local"), (b"accept", b"text/event-stream")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver.local", 80),
            "state": {},
        }
        self._task = asyncio.create_task(self.app(scope, self._receive, self._send))
        return self

    async def disconnect(self) -> None:
        self._gone.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, WAIT)

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None and not self._task.done():
            await self.disconnect()


# -- a hearing in session -------------------------------------------------------------------


async def post(
    client: httpx.AsyncClient, people: dict[str, Any], who: str, path: str, body: Any = None
) -> Any:
    response = await client.post(
        path, json=body if body is not None else {}, headers=bearer(people["tokens"][who])
    )
    assert response.status_code < 300, (path, response.status_code, response.text)
    return response.json() if response.content else None


async def in_session(client: httpx.AsyncClient, people: dict[str, Any]) -> tuple[int, int]:
    """A running hearing with two residents checked in and its first item open: (hearing, item)."""
    scheduled = await client.post(
        "/api/v1/hearings", json=hearing_body(people), headers=bearer(people["tokens"]["member"])
    )
    assert scheduled.status_code == 201, scheduled.text
    hearing_id = int(scheduled.json()["id"])
    base = f"/api/v1/hearings/{hearing_id}"
    await post(client, people, "resident1", f"{base}/check-in")
    await post(client, people, "resident2", f"{base}/check-in")
    await post(client, people, "host", f"{base}/start")
    item = (await client.get(f"{base}/live")).json()["items"][0]["id"]
    await post(client, people, "host", f"{base}/items/{item}/open")
    return hearing_id, item


def queue_users(current: State) -> list[int | None]:
    return [q["user"] for q in current["queue"]]


def without_clock(current: State) -> State:
    return {k: v for k, v in current.items() if k != "server_time"}


async def redis_or_skip() -> Any:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        await client.aclose()
        if IN_CI:
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return client


async def start_all(*servers: LiveServer) -> None:
    """Started side by side: most of a start is importing the app."""
    await asyncio.gather(*(asyncio.to_thread(one.start) for one in servers))


def server(tmp_path: Path, redis_url: str = "", workers: int = 1) -> LiveServer:
    one = LiveServer(database_url(), tmp_path, workers=workers)
    if redis_url:
        one.env["COUNCIL_REDIS_URL"] = redis_url
    return one


# -- in process: the ASGI app ---------------------------------------------------------------


async def _asgi_app(settings: Any) -> Any:
    from council.app import create_app

    return create_app(settings)


async def test_the_stream_outlives_keep_alives_and_skips_stale_messages(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from litestar.channels import ChannelsPlugin

    monkeypatch.setattr(routes, "KEEPALIVE_SECONDS", 0.2)
    people = await hearing_people(settings)
    app = await _asgi_app(settings)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
        ) as client,
    ):
        hearing_id, _ = await in_session(client, people)
        async with AsgiStream(app, hearing_id) as stream:
            first = await stream.state()
            assert stream.status == 200 and stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["cache-control"] == "no-store" and first["queue"] == []
            # idle: keep-alive comments, and the stream goes on after them
            comments = [await stream.next() for _ in range(3)]
            assert comments == [{"comment": "keep-alive"}] * 3
            # a message older than what the client has is not passed on
            stale = {**first, "version": first["version"] - 1, "title": "stale"}
            app.plugins.get(ChannelsPlugin).publish(live.frame(stale), live.channel(hearing_id))
            await post(client, people, "resident1", f"/api/v1/hearings/{hearing_id}/floor/request")
            after = await stream.state()
            assert after["version"] > first["version"] and after["title"] != "stale"
            assert queue_users(after) == [people["ids"]["resident1"]]


async def test_a_client_that_goes_away_leaves_no_subscription(settings: Any) -> None:
    from litestar.channels import ChannelsPlugin

    people = await hearing_people(settings)
    app = await _asgi_app(settings)
    plugin = app.plugins.get(ChannelsPlugin)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
        ) as client,
    ):
        hearing_id, _ = await in_session(client, people)
        name = live.channel(hearing_id)
        streams = [AsgiStream(app, hearing_id) for _ in range(3)]
        for stream in streams:
            await stream.__aenter__()
            await stream.state()
        assert len(plugin._channels[name]) == 3  # the plugin's subscribers of the hearing's channel
        await streams[0].disconnect()
        assert len(plugin._channels[name]) == 2
        await post(client, people, "resident1", f"/api/v1/hearings/{hearing_id}/floor/request")
        for stream in streams[1:]:
            assert queue_users(await stream.state(lambda s: bool(s["queue"]))) == [people["ids"]["resident1"]]
            await stream.disconnect()
        assert not plugin._channels[name]


async def test_a_stalled_client_gets_the_newest_state_not_a_backlog(settings: Any) -> None:
    from litestar.channels import ChannelsPlugin

    people = await hearing_people(settings)
    app = await _asgi_app(settings)
    plugin = app.plugins.get(ChannelsPlugin)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
        ) as client,
    ):
        hearing_id, _ = await in_session(client, people)
        async with AsgiStream(app, hearing_id) as stream:
            first = await stream.state()
            stream.flowing.clear()
            v = first["version"]
            for k in range(1, 31):
                plugin.publish(live.frame({**first, "version": v + k}), live.channel(hearing_id))
            await asyncio.sleep(0.3)
            stream.flowing.set()
            received: list[int] = []
            while not received or received[-1] < v + 30:
                item = await stream.next()
                assert item is not None, received
                if item.get("event") == "state":
                    received.append(int(item["id"]))
            # the one being sent when it stalled, then only the newest few, in order
            assert received == sorted(set(received)) and len(received) <= 10, received


async def test_an_unknown_hearing_has_no_stream(settings: Any) -> None:
    app = await _asgi_app(settings)
    async with app.lifespan(), AsgiStream(app, 999) as stream:
        assert await stream.next() is None
        assert stream.status == 404


# -- real servers: `council serve` -----------------------------------------------------------


@pytest.mark.slow
async def test_two_processes_sharing_redis_both_deliver_a_change(settings: Any, tmp_path: Path) -> None:
    from council.app import create_app
    from council.db import write_transaction
    from council.hearings.service import bump

    redis = await redis_or_skip()
    people = await hearing_people(settings)
    a, b = server(tmp_path, REDIS_URL), server(tmp_path, REDIS_URL)
    try:
        await start_all(a, b)
        async with (
            httpx.AsyncClient(base_url=a.base, timeout=WAIT) as via_a,
            httpx.AsyncClient(base_url=b.base, timeout=WAIT) as via_b,
        ):
            hearing_id, _ = await in_session(via_a, people)
            path = f"/api/v1/hearings/{hearing_id}"
            async with HttpStream(a.base, hearing_id) as on_a, HttpStream(b.base, hearing_id) as on_b:
                first = [await on_a.state(), await on_b.state()]
                assert first[0]["version"] == first[1]["version"]
                v0 = first[0]["version"]

                # another deployment on the same Redis (another database number) has a hearing
                # with the same id: what it publishes is not ours
                other = create_app(replace(settings, redis_url=REDIS_URL.rsplit("/", 1)[0] + "/14"))
                async with other.lifespan():
                    async with write_transaction():
                        foreign = await bump(hearing_id)
                    await live.changed(hearing_id, foreign, "elsewhere")
                    await asyncio.sleep(0.2)

                await post(via_a, people, "resident1", f"{path}/floor/request")
                for stream in (on_a, on_b):
                    seen = await stream.state()
                    assert seen["version"] == foreign + 1 and seen["version"] > v0
                    assert queue_users(seen) == [people["ids"]["resident1"]]

                # and the other way round: a change through B reaches A's client too
                await post(via_b, people, "host", f"{path}/floor/give")
                for stream in (on_a, on_b):
                    seen = await stream.state()
                    assert seen["queue"] == [] and seen["speaking"]["user"] == people["ids"]["resident1"]
    finally:
        a.stop()
        b.stop()
        await redis.aclose()


@pytest.mark.slow
async def test_a_server_restart_during_a_hearing_loses_nothing(settings: Any, tmp_path: Path) -> None:
    people = await hearing_people(settings)
    c, ids = people["c"], people["ids"]
    first_server = server(tmp_path)
    first_server.start()
    try:
        async with httpx.AsyncClient(base_url=first_server.base, timeout=WAIT) as client:
            hearing_id, _ = await in_session(client, people)
            path = f"/api/v1/hearings/{hearing_id}"
            async with HttpStream(first_server.base, hearing_id) as stream:
                # a connected client gets each change as it is made
                first = await stream.state()
                assert stream.status == 200 and first["queue"] == [] and first["speaking"] is None
                await post(client, people, "resident1", f"{path}/floor/request")
                asked = await stream.state()
                assert asked["version"] > first["version"] and queue_users(asked) == [ids["resident1"]]
                assert without_clock(asked) == without_clock((await client.get(f"{path}/live")).json())

                await post(client, people, "host", f"{path}/present", {"resident_id": c.residents[2]["id"]})
                await post(client, people, "resident1", f"{path}/floor/withdraw")
                await post(client, people, "resident3", f"{path}/floor/request")
                await post(client, people, "resident1", f"{path}/floor/request")
                await post(client, people, "host", f"{path}/floor/add", {"name": "王阿姨"})
                await post(client, people, "host", f"{path}/floor/give")
                await post(client, people, "host", f"{path}/floor/extend", {"seconds": 60})
                await post(client, people, "resident2", f"{path}/leave")
                before = (await client.get(f"{path}/live")).json()
                assert without_clock(await stream.state(lambda s: s["version"] == before["version"])) == (
                    without_clock(before)
                )
                host = bearer(people["tokens"]["host"])
                who_came = (await client.get(f"{path}/attendance", headers=host)).json()
                first_server.kill()  # SIGKILL to granian and its worker
                assert await stream.next() is None  # the stream ends with the server
    finally:
        first_server.kill()

    assert before["status"] == "running" and before["speaking"]["user"] == ids["resident3"]
    assert before["speaking"]["seconds"] == 240 and before["speaking"]["deadline"]
    assert queue_users(before) == [ids["resident1"], None] and before["queue"][1]["name"] == "王阿姨"
    assert before["attendance"]["present"] == 2 and before["attendance"]["people"] == 2
    assert sum(1 for a in who_came["items"] if a["left_at"]) == 1 and len(who_came["items"]) == 3

    second_server = server(tmp_path)  # the same database, another port
    second_server.start()
    try:
        async with httpx.AsyncClient(base_url=second_server.base, timeout=WAIT) as client:
            after = (await client.get(f"{path}/live")).json()
            assert without_clock(after) == without_clock(before)
            assert (await client.get(f"{path}/attendance", headers=host)).json() == who_came
            async with HttpStream(second_server.base, hearing_id) as stream:
                assert without_clock(await stream.state()) == without_clock(before)
                # and the console goes on where it stopped
                await post(client, people, "host", f"{path}/floor/next")
                moved = await stream.state()
                assert moved["version"] == before["version"] + 1
                assert moved["speaking"]["user"] == ids["resident1"] and moved["queue"][0]["name"] == "王阿姨"
    finally:
        second_server.stop()
