from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from orgs.models import Event
from tests.browser.server import Server, prepare_db, run_python, start_daphne
from tests.factories import make_issue, make_org, make_user
from web import sse
from web.sse import hub

pytestmark = pytest.mark.django_db(transaction=True)


def parse(chunk: bytes) -> list[dict[str, Any]]:
    """SSE frames in ``chunk`` as dicts (``id``, ``event``, ``data`` / ``comment``)."""
    frames = []
    for block in chunk.decode().split("\n\n"):
        frame: dict[str, Any] = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            if name == "":
                frame["comment"] = value.strip()
            elif name in ("id", "event", "retry"):
                frame[name] = value.strip()
            elif name == "data":
                frame["data"] = json.loads(value.strip())
        if frame:
            frames.append(frame)
    return frames


async def next_frames(stream: AsyncIterator[bytes], timeout: float = 5) -> list[dict[str, Any]]:
    return parse(await asyncio.wait_for(anext(stream), timeout))


async def frames_until(stream: AsyncIterator[bytes], predicate: Any, timeout: float = 5) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while not predicate(seen):
        seen += await next_frames(stream, timeout)
    return seen


def event_frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if "event" in f]


async def open_stream(async_client: Any, path: str = "/events", **headers: str) -> AsyncIterator[bytes]:
    response = await async_client.get(path, headers=headers)
    assert response.status_code == 200, response
    assert response["Content-Type"] == "text/event-stream"
    stream = response.streaming_content
    hello = await next_frames(stream)
    assert hello[0].get("retry") == "1500"
    return stream


async def test_it_streams_new_events_of_the_org(async_client: Any) -> None:
    org = await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    stream = await open_stream(async_client, "/events?org=acme")
    issue = await sync_to_async(make_issue)(org, title="Live one")
    frames = event_frames(await frames_until(stream, lambda f: any(x.get("event") == "issue_created" for x in f)))
    created = next(f for f in frames if f["event"] == "issue_created")
    assert created["data"]["key"] == issue.key
    assert created["data"]["title"] == "Live one"
    assert int(created["id"]) == await Event.objects.filter(type="issue_created").values_list("id", flat=True).aget()
    await stream.aclose()  # type: ignore[attr-defined]


async def test_it_resumes_after_the_last_event_id(async_client: Any) -> None:
    org = await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    for n in range(3):
        await sync_to_async(make_issue)(org, title=f"Issue {n}")
    ids = [i async for i in Event.objects.filter(org=org).order_by("id").values_list("id", flat=True)]
    resume_from = ids[2]
    stream = await open_stream(async_client, "/events?org=acme", last_event_id=str(resume_from))
    frames = event_frames(await frames_until(stream, lambda f: len(event_frames(f)) >= len(ids) - 3))
    assert [int(f["id"]) for f in frames] == ids[3:]
    # The query parameter works too (a fresh EventSource cannot set the header).
    stream2 = await open_stream(async_client, f"/events?org=acme&last_event_id={ids[-2]}")
    assert [int(f["id"]) for f in event_frames(await next_frames(stream2))] == [ids[-1]]
    await stream.aclose()  # type: ignore[attr-defined]
    await stream2.aclose()  # type: ignore[attr-defined]


async def test_it_sends_only_the_events_of_the_clients_org(async_client: Any) -> None:
    acme = await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    other = await sync_to_async(make_org)(slug="other", issue_prefix="OTH")
    stream = await open_stream(async_client, "/events?org=acme")
    await sync_to_async(make_issue)(other, title="Not yours")
    await sync_to_async(make_issue)(acme, title="Yours")
    frames = event_frames(await frames_until(stream, lambda f: any(x.get("event") == "issue_created" for x in f)))
    assert [f["data"]["title"] for f in frames if f["event"] == "issue_created"] == ["Yours"]
    other_ids = {i async for i in Event.objects.filter(org=other).values_list("id", flat=True)}
    assert other_ids and not other_ids & {int(f["id"]) for f in frames}
    await stream.aclose()  # type: ignore[attr-defined]


async def test_it_sends_keepalive_comments_when_idle(async_client: Any, settings: Any) -> None:
    settings.MESA_SSE_KEEPALIVE_S = 0.05
    await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    stream = await open_stream(async_client, "/events?org=acme")
    assert await next_frames(stream) == [{"comment": "keepalive"}]
    await stream.aclose()  # type: ignore[attr-defined]


async def test_it_refuses_anonymous_viewers_when_login_is_required(async_client: Any, settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    response = await async_client.get("/events?org=acme")
    assert response.status_code == 401
    assert response.get("Content-Type") != "text/event-stream"


async def test_it_keeps_a_user_out_of_another_orgs_stream(async_client: Any, settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    await async_client.aforce_login(await sync_to_async(make_user)(username="outsider"))
    response = await async_client.get("/events?org=acme")
    assert response.status_code == 404


async def test_it_answers_404_for_an_unknown_org(async_client: Any) -> None:
    await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    response = await async_client.get("/events?org=nope")
    assert response.status_code == 404


async def test_it_forgets_a_client_that_disconnects() -> None:
    """A real ASGI disconnect cancels the stream and frees the client's slot in the hub."""
    from django.core.asgi import get_asgi_application

    await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    app = get_asgi_application()
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[Mapping[str, Any]] = []
    first_body = asyncio.Event()
    await inbox.put({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_body.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "path": "/events",
        "raw_path": b"/events",
        "query_string": b"org=acme",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "scheme": "http",
    }
    before = hub.client_count
    task = asyncio.create_task(app(scope, receive, send))
    await asyncio.wait_for(first_body.wait(), 5)
    assert hub.client_count == before + 1
    await inbox.put({"type": "http.disconnect"})
    await asyncio.wait_for(task, 5)
    assert hub.client_count == before
    assert sent[0]["status"] == 200


async def _issue_ids(org: Any, n: int) -> list[int]:
    for i in range(n):
        await sync_to_async(make_issue)(org, title=f"Issue {i}")
    return [i async for i in Event.objects.filter(org=org).order_by("id").values_list("id", flat=True)]


async def _wait_until(predicate: Any, what: str, timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def test_it_tells_a_client_too_far_behind_to_resync_instead_of_replaying(
    async_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sse, "MAX_BACKLOG", 3)
    org = await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    ids = await _issue_ids(org, 5)
    assert len(ids) > 3

    stream = await open_stream(async_client, "/events?org=acme", last_event_id=str(ids[0] - 1))
    [resync] = event_frames(await next_frames(stream))

    assert resync["event"] == "resync" and resync["data"] == {"reason": "too far behind"}
    assert int(resync["id"]) == ids[-1]  # it picks up from now
    await sync_to_async(make_issue)(org, title="After the resync")
    frames = event_frames(await frames_until(stream, lambda f: any(x.get("event") == "issue_created" for x in f)))
    assert all(int(f["id"]) > ids[-1] for f in frames)
    await stream.aclose()  # type: ignore[attr-defined]


async def test_it_replays_a_backlog_of_exactly_the_limit(async_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    org = await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    ids = await _issue_ids(org, 2)
    monkeypatch.setattr(sse, "MAX_BACKLOG", len(ids))

    stream = await open_stream(async_client, "/events?org=acme", last_event_id=str(ids[0] - 1))

    assert [int(f["id"]) for f in event_frames(await next_frames(stream))] == ids
    await stream.aclose()  # type: ignore[attr-defined]


async def test_it_tells_a_slow_client_to_resync_when_its_queue_overflows(
    async_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sse, "QUEUE_MAX", 2)
    org = await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    stream = await open_stream(async_client, "/events?org=acme")
    [client] = [c for by_org in hub._loops.values() for c in by_org.get(org.pk, ())]

    ids = await _issue_ids(org, 4)  # the stream reads nothing meanwhile: a stalled browser tab
    await _wait_until(lambda: client.overflowed, "the queue to overflow")
    # Every event read before the tab reads again: one the hub reads after the resync was taken follows it,
    # rightly (the resync's id is before it), and would be taken here for a replayed one.
    await _wait_until(lambda: hub.last_id >= ids[-1], "the hub to read every event")
    frames = event_frames(await frames_until(stream, lambda f: any(x.get("event") == "resync" for x in f)))

    resync = frames[-1]
    assert resync["data"] == {"reason": "too slow"} and int(resync["id"]) <= ids[-1]
    assert not client.overflowed
    newer = await sync_to_async(make_issue)(org, title="After the resync")
    later = event_frames(await frames_until(stream, lambda f: any(x.get("event") == "issue_created" for x in f)))
    assert [f["data"]["key"] for f in later if f["event"] == "issue_created"] == [newer.key]
    await stream.aclose()  # type: ignore[attr-defined]


async def test_it_never_sends_an_event_twice_when_the_hub_reads_it_again(async_client: Any) -> None:
    org = await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    stream = await open_stream(async_client, "/events?org=acme")
    first = await sync_to_async(make_issue)(org, title="First")
    seen = event_frames(await frames_until(stream, lambda f: any(x.get("event") == "issue_created" for x in f)))

    hub.last_id = min(int(f["id"]) for f in seen) - 1  # the hub's cursor moves back (a restore, a reset)
    hub.wake()
    await _wait_until(lambda: hub.last_id >= max(int(f["id"]) for f in seen), "the hub to read them again")
    second = await sync_to_async(make_issue)(org, title="Second")
    again = event_frames(await frames_until(stream, lambda f: any(x.get("event") == "issue_created" for x in f)))

    assert [f["data"]["key"] for f in again if f["event"] == "issue_created"] == [second.key]
    assert not {f["id"] for f in again} & {f["id"] for f in seen}
    assert first.key != second.key
    await stream.aclose()  # type: ignore[attr-defined]


async def test_it_stops_the_idle_hub_and_starts_it_again_for_the_next_viewer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sse, "IDLE_STOP_S", 0.05)
    org = await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    # The stream itself (not through the test client, whose close does not reach it): closing it unregisters.
    viewer = sse._stream(org.pk, None)
    await anext(viewer)
    await viewer.aclose()  # type: ignore[attr-defined]
    # An event makes the hub drop the streams of finished tests' closed loops: then nobody watches.
    missed = await sync_to_async(make_issue)(org, title="While nobody watched")
    await _wait_until(lambda: not hub._running, "the idle hub to stop")

    viewer = sse._stream(org.pk, None)
    await anext(viewer)
    assert hub._running  # the new viewer started a fresh reader
    issue = await sync_to_async(make_issue)(org, title="Live again")
    frames = event_frames(await frames_until(viewer, lambda f: any(x.get("event") == "issue_created" for x in f)))

    assert [f["data"]["key"] for f in frames if f["event"] == "issue_created"] == [issue.key]
    assert missed.key != issue.key
    await viewer.aclose()  # type: ignore[attr-defined]


async def test_it_retries_after_a_database_error_and_delivers_what_came_meanwhile(
    async_client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from django.db import OperationalError

    org = await sync_to_async(make_org)(slug="acme", issue_prefix="ACME")
    stream = await open_stream(async_client, "/events?org=acme")
    real = sse._data_version
    failures: list[int] = []

    def flaky() -> int | None:
        if len(failures) < 2:
            failures.append(1)
            raise OperationalError("database is locked")
        return real()

    caplog.set_level("WARNING", logger="web.sse")
    monkeypatch.setattr(sse, "_data_version", flaky)
    hub.wake()
    issue = await sync_to_async(make_issue)(org, title="Written while the hub failed")
    frames = event_frames(await frames_until(stream, lambda f: any(x.get("event") == "issue_created" for x in f)))

    assert len(failures) == 2
    assert [f["data"]["key"] for f in frames if f["event"] == "issue_created"] == [issue.key]
    warnings = [r.getMessage() for r in caplog.records if r.name == "web.sse"]
    assert warnings == ["SSE hub poll failed (database is locked); retrying"]  # once, not per retry
    await stream.aclose()  # type: ignore[attr-defined]


# -- against a real daphne, with writes from another process ------------------------------


@pytest.fixture(scope="module")
def daphne_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("sse-daphne")
    db = prepare_db(directory)
    server = start_daphne(db, directory / "daphne.log", MESA_SSE_KEEPALIVE_S="0.3")
    yield server
    server.stop()


class SSEReader:
    """A blocking SSE client over http.client (what a browser's EventSource does)."""

    def __init__(self, server: Server, path: str = "/events?org=mesa", last_event_id: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type") == "text/event-stream"

    def frame(self) -> dict[str, Any]:
        lines: list[str] = []
        while True:
            line = self.response.readline().decode()
            if line in ("\n", "") and lines:
                break
            if line.strip():
                lines.append(line)
        return parse("".join(lines).encode())[0]

    def until(self, predicate: Any, limit: int = 200) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        for _ in range(limit):
            frames.append(self.frame())
            if predicate(frames[-1]):
                return frames
        raise AssertionError(f"no matching frame in {frames}")

    def close(self) -> None:
        self.conn.close()


WRITE = """
from orgs.models import Org
from orgs.actors import Actor
from issues.services import issue_create
org = Org.objects.get(slug="mesa")
print(issue_create(actor=Actor.system("other-process"), org=org, title={title!r}).key)
"""


@pytest.mark.django_db(transaction=False)
def test_it_delivers_events_written_by_another_process(daphne_server: Server) -> None:
    reader = SSEReader(daphne_server)
    key = run_python(daphne_server.db, WRITE.format(title="From the scheduler's side")).strip()
    frames = reader.until(lambda f: f.get("event") == "issue_created")
    assert frames[-1]["data"]["key"] == key
    assert frames[-1]["data"]["title"] == "From the scheduler's side"
    reader.close()


@pytest.mark.django_db(transaction=False)
def test_it_replays_what_was_missed_while_disconnected(daphne_server: Server) -> None:
    reader = SSEReader(daphne_server)
    run_python(daphne_server.db, WRITE.format(title="Seen live"))
    seen = reader.until(lambda f: f.get("event") == "issue_created")[-1]
    reader.close()
    missed = run_python(daphne_server.db, WRITE.format(title="Missed while away")).strip()
    again = SSEReader(daphne_server, last_event_id=seen["id"])
    assert again.frame().get("retry") == "1500"
    frames = again.until(lambda f: f.get("event") == "issue_created")
    assert int(frames[0]["id"]) == int(seen["id"]) + 1
    assert frames[-1]["data"]["key"] == missed
    again.close()


@pytest.mark.django_db(transaction=False)
def test_it_keeps_idle_streams_alive_and_survives_dropped_clients(daphne_server: Server) -> None:
    dropped = [SSEReader(daphne_server) for _ in range(5)]
    for r in dropped:
        r.close()
    reader = SSEReader(daphne_server)
    assert reader.frame().get("retry") == "1500"
    assert reader.frame() == {"comment": "keepalive"}
    key = run_python(daphne_server.db, WRITE.format(title="After the drops")).strip()
    frames = reader.until(lambda f: f.get("event") == "issue_created")
    assert frames[-1]["data"]["key"] == key
    reader.close()
    assert daphne_server.proc.poll() is None
