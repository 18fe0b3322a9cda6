"""The ASGI handler reuses request threads, and with them their database connections."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.contrib.messages import get_messages
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished, request_started
from django.db.backends.signals import connection_created

from agents.keys import key_create
from mesa.handler import PooledThreadsASGIHandler
from orgs.actors import Actor
from tests.factories import make_agent, make_issue, make_org


def _run(coro: Any) -> Any:
    """``asyncio.run`` on a thread of its own: the browser tests' Playwright leaves an event loop marked
    running on the main thread for the rest of the session, and asyncio.run refuses to start there."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the event loop did not finish"
    if errors:
        raise errors[0]
    return result[0]


async def _get(app: Any, path: str, key: str) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {key}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 3001),
    }
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await queue.put({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        return await queue.get()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


def _connections_opened(app: Any, path: str, key: str, requests: int) -> int:
    opened: list[Any] = []

    def count(sender: Any, connection: Any, **kwargs: Any) -> None:
        opened.append(connection)

    connection_created.connect(count)
    try:

        async def serve() -> None:
            for _ in range(requests):
                status, body = await _get(app, path, key)
                assert status == 200, body[:300]
                assert json.loads(body)["key"] == path.rsplit("/", 1)[1]

        _run(serve())
    finally:
        connection_created.disconnect(count)
    return len(opened)


@pytest.mark.django_db(transaction=True)
def test_it_serves_consecutive_requests_on_one_thread_and_connection() -> None:
    org = make_org()
    agent = make_agent(org)
    issue = make_issue(org, assignee=agent)
    key = key_create(actor=Actor.system(), org=org, kind="board")[1]
    path = f"/api/v1/issues/{issue.key}"
    # Django's own handler opens a connection in a new thread for every request: the measure sees it.
    assert _connections_opened(ASGIHandler(), path, key, requests=5) == 5
    # The pooled handler opens one, in its first thread, and keeps it.
    assert _connections_opened(PooledThreadsASGIHandler(threads=2), path, key, requests=5) == 1


@pytest.mark.django_db(transaction=True)
def test_it_falls_back_to_a_thread_of_its_own_when_every_pooled_thread_is_busy() -> None:
    org = make_org()
    issue = make_issue(org)
    key = key_create(actor=Actor.system(), org=org, kind="board")[1]
    handler = PooledThreadsASGIHandler(threads=1)
    busy = handler._idle.pop()  # the only pooled thread is taken by another request
    try:
        assert _connections_opened(handler, f"/api/v1/issues/{issue.key}", key, requests=2) == 2
    finally:
        handler._idle.append(busy)
    assert _connections_opened(handler, f"/api/v1/issues/{issue.key}", key, requests=2) == 1


def _trips(app: Any, path: str, key: str) -> tuple[int, set[int]]:
    """Trips from the event loop to a thread while ``app`` serves one GET, and the threads that the
    request's signals ran on."""
    trips = [0]
    threads: set[int] = set()
    original = SyncToAsync.__call__

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        trips[0] += 1
        return await original(self, *args, **kwargs)

    def seen(**kwargs: Any) -> None:
        threads.add(threading.get_ident())

    request_started.connect(seen)
    request_finished.connect(seen)
    SyncToAsync.__call__ = counting  # type: ignore[method-assign]
    try:
        status, _ = _run(_get(app, path, key))
    finally:
        SyncToAsync.__call__ = original  # type: ignore[method-assign]
        request_started.disconnect(seen)
        request_finished.disconnect(seen)
    assert status == 200
    return trips[0], threads


@pytest.mark.django_db(transaction=True)
def test_it_serves_a_request_in_one_trip_to_its_thread() -> None:
    org = make_org()
    issue = make_issue(org)
    key = key_create(actor=Actor.system(), org=org, kind="board")[1]
    path = f"/api/v1/issues/{issue.key}"
    # Django's handler: request_started, the middleware chain and the view, and the close, each a trip.
    assert _trips(ASGIHandler(), path, key)[0] >= 3
    trips, threads = _trips(PooledThreadsASGIHandler(threads=1), path, key)
    assert trips == 1
    # request_started and request_finished (which closes stale connections) ran on the request's thread.
    assert len(threads) == 1 and threading.get_ident() not in threads


@pytest.mark.django_db
def test_it_opens_the_message_store_for_pages_only(client: Any) -> None:
    page = client.get("/")
    assert hasattr(page.wsgi_request, "_messages")
    api = client.get("/api/v1/inbox")
    assert api.status_code == 401 and not hasattr(api.wsgi_request, "_messages")
    assert list(get_messages(page.wsgi_request)) == []


@pytest.mark.django_db(transaction=True)
def test_it_queues_a_request_for_the_busy_thread_and_spills_after_the_queue_time() -> None:
    org = make_org()
    issue = make_issue(org)
    key = key_create(actor=Actor.system(), org=org, kind="board")[1]
    path = f"/api/v1/issues/{issue.key}"
    handler = PooledThreadsASGIHandler(threads=1, queue_s=5)

    async def queued_then_served() -> tuple[int, list[str]]:
        executor = await handler._take()  # another request holds the only thread
        assert executor is not None
        order: list[str] = []

        async def waiting() -> int:
            status, _ = await _get(handler, path, key)
            order.append("served")
            return status

        task = asyncio.ensure_future(waiting())
        await asyncio.sleep(0.2)
        assert not task.done() and len(handler._waiting) == 1  # it waits in line, no thread of its own
        order.append("released")
        handler._give_back(executor)
        return await task, order

    status, order = _run(queued_then_served())
    assert status == 200 and order == ["released", "served"]
    assert len(handler._idle) == 1 and not handler._waiting  # the thread went back

    spill = PooledThreadsASGIHandler(threads=1, queue_s=0.05)

    async def spilled() -> int:
        held = await spill._take()
        try:
            status, _ = await _get(spill, path, key)  # served on a thread of its own after 50 ms
            return status
        finally:
            assert held is not None
            spill._give_back(held)

    assert _run(spilled()) == 200
    assert len(spill._idle) == 1 and not spill._waiting


def test_it_gives_back_a_thread_handed_to_a_request_cancelled_while_it_waited() -> None:
    handler = PooledThreadsASGIHandler(threads=1, queue_s=5)

    async def request() -> None:  # what __call__ does with the thread it takes
        executor = await handler._take()
        try:
            await asyncio.sleep(0.05)
        finally:
            if executor is not None:
                handler._give_back(executor)

    async def cancel_a_waiter() -> None:
        held = await handler._take()
        assert held is not None
        waiting = asyncio.ensure_future(request())
        await asyncio.sleep(0.05)
        assert len(handler._waiting) == 1
        handler._give_back(held)  # handed to the waiting request ...
        waiting.cancel()  # ... which is cancelled before it runs again
        # Python 3.11's wait_for may return the thread rather than raise: either way it must come back.
        with contextlib.suppress(asyncio.CancelledError):
            await waiting

    _run(cancel_a_waiter())
    assert len(handler._idle) == 1 and not handler._waiting  # not lost either way

    async def cancel_before_any_thread_is_free() -> None:
        held = await handler._take()
        assert held is not None
        waiting = asyncio.ensure_future(handler._take())
        await asyncio.sleep(0.05)
        waiting.cancel()  # gives up its place in line while the thread is still taken
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        assert not handler._waiting  # out of the line: the thread is not handed to a request that left
        handler._give_back(held)

    _run(cancel_before_any_thread_is_free())
    assert len(handler._idle) == 1 and not handler._waiting


def test_it_keeps_a_request_in_a_moving_line_longer_than_the_queue_time() -> None:
    """Only a line that stands still (a slow request holds the thread) sends a request to a thread of its own;
    a line of quick requests is waited in, however long, so no request pays for a new thread and connection."""
    handler = PooledThreadsASGIHandler(threads=1, queue_s=1.0)

    async def moving_line() -> ThreadPoolExecutor | None:
        held = await handler._take()
        assert held is not None
        first = asyncio.ensure_future(handler._take())
        second = asyncio.ensure_future(handler._take())
        await asyncio.sleep(0.6)
        handler._give_back(held)  # the line moves: the first waiter is served
        served = await first
        assert served is not None
        await asyncio.sleep(0.6)  # the second has now waited 1.2 s, longer than the queue time ...
        assert not second.done()  # ... in a line that moved 0.6 s ago: it still waits
        handler._give_back(served)
        taken = await second
        if taken is not None:
            handler._give_back(taken)
        return taken

    assert _run(moving_line()) is not None
    assert len(handler._idle) == 1 and not handler._waiting


def test_it_starts_the_line_clock_when_an_idle_thread_is_taken() -> None:
    """After a quiet spell, a request that arrives just behind another waits for it: the line stood still only
    since that request began, not since the thread last finished one long ago."""
    handler = PooledThreadsASGIHandler(threads=1, queue_s=1.0)
    handler._moved -= 60  # the thread last finished a request a minute ago

    async def just_behind() -> bool:
        held = await handler._take()
        assert held is not None
        second = asyncio.ensure_future(handler._take())
        await asyncio.sleep(0.2)
        waiting = not second.done()  # it waits for the request that began 0.2 s ago ...
        handler._give_back(held)
        taken = await second
        assert taken is not None  # ... and is served on the pooled thread
        handler._give_back(taken)
        return waiting

    assert _run(just_behind())
    assert len(handler._idle) == 1 and not handler._waiting
