"""The live event stream: ``GET /events`` (Server-Sent Events).

One ``EventHub`` per server process reads new ``orgs.Event`` rows (the durable
feed, so events written by the scheduler process arrive too) and fans each one
out, pre-encoded once, to every connected client of its org through a
per-client asyncio queue. The hub's reader is a single daemon thread with its
own DB connection: it checks ``PRAGMA data_version`` on SQLite (a read of the
shared WAL index, no table access) or ``max(id)`` elsewhere every
``MESA_SSE_POLL_MS``, and in-process publishes wake it at once through
``orgs.events.add_listener``. The thread starts with the first viewer and
stops after ``IDLE_STOP_S`` without any. Keepalive comments come from the same
thread (one timer for all streams). Cost per viewer is one queue and one coroutine.

Ordering contract (why no event is lost across a reconnect): a client registers
with the hub *before* it reads its backlog or its floor id from the database,
and the hub hands events to clients on the client's own event loop. Any event
the hub delivers before registration was committed before it, so the backlog
query (``id > Last-Event-ID``) or the floor (``max(id)``) covers it; anything
after registration reaches the queue. Duplicates are dropped by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from orgs.events import add_listener
from orgs.models import Event, Org
from orgs.selectors import orgs_visible
from web.access import current_org, login_required_here
from web.local_login import has_local_session, local_session_required

log = logging.getLogger(__name__)

BATCH = 500
# A reconnect further behind than this gets a ``resync`` event instead of a replay.
MAX_BACKLOG = 1000
QUEUE_MAX = 2000
KEEPALIVE = (-1, b": keepalive\n\n")
# The reader thread stops after this long without any viewer.
IDLE_STOP_S = 5.0
# PostgreSQL hands out ids when rows are inserted, not when they commit: an event can become visible
# after one with a higher id. Ids skipped over are looked for again for this long (a rolled-back
# insert leaves a gap that never fills), and a jump wider than GAP_MAX is not tracked id by id.
GAP_WAIT_S = 10.0
GAP_MAX = 1000


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def encode(event_id: int, type_: str, data: Any) -> bytes:
    """One SSE frame; ``data`` is compact JSON on a single line."""
    payload = json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"))
    return f"id: {event_id}\nevent: {type_}\ndata: {payload}\n\n".encode()


@dataclass(eq=False)
class Client:
    org_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[tuple[int, bytes]] = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))
    overflowed: bool = False


class EventHub:
    """Reads the Event table once per process and fans out to every client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # loop -> org id -> clients; a loop's inner dict is only touched on that loop.
        self._loops: dict[asyncio.AbstractEventLoop, dict[int, set[Client]]] = {}
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._running = False
        self.last_id = 0
        self.polls = 0
        self.missing: dict[int, float] = {}  # ids skipped over -> when first missed

    # -- client side (runs on the client's event loop) -------------------------------

    async def register(self, org_id: int) -> Client:
        """Add a client; starts the reader (reading the current max id first) if it is not running."""
        client = Client(org_id=org_id, loop=asyncio.get_running_loop())
        with self._lock:
            self._loops.setdefault(client.loop, {}).setdefault(org_id, set()).add(client)
            running = self._running
        if not running:
            try:
                await sync_to_async(self._start, thread_sensitive=False)()
            except BaseException:
                self.unregister(client)
                raise
        self._wake.set()
        return client

    def unregister(self, client: Client) -> None:
        with self._lock:
            by_org = self._loops.get(client.loop, {})
            clients = by_org.get(client.org_id)
            if clients is not None:
                clients.discard(client)
                if not clients:
                    del by_org[client.org_id]
            if not by_org:
                self._loops.pop(client.loop, None)

    @property
    def client_count(self) -> int:
        with self._lock:
            return sum(len(c) for by_org in self._loops.values() for c in by_org.values())

    def wake(self, _event: object = None) -> None:
        self._wake.set()

    # -- reader thread ---------------------------------------------------------------------

    def _start(self) -> None:
        with self._start_lock:
            if self._running:
                return
            add_listener(self.wake)
            # Read before any client can take its floor, so nothing committed later is skipped.
            self.last_id = _max_event_id()
            self._running = True
            threading.Thread(target=self._run, name="mesa-sse-hub", daemon=True).start()

    def _run(self) -> None:
        version: int | None = None
        last_keepalive = idle_since = time.monotonic()
        failing = False
        while True:
            with self._lock:
                idle = not self._loops
                if not idle:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > IDLE_STOP_S:
                    # Nobody has watched for a while: stop; the next viewer starts a fresh reader.
                    self._running = False
                    connection.close()
                    return
            # Idle (no viewer yet): look rarely, just to keep last_id current.
            timeout = 0.5 if idle else _setting("MESA_SSE_POLL_MS", 20) / 1000
            woken = self._wake.wait(timeout)
            self._wake.clear()
            now = time.monotonic()
            if now - last_keepalive >= _setting("MESA_SSE_KEEPALIVE_S", 15):
                # One timer for every stream instead of a timeout per stream per event.
                last_keepalive = now
                self._broadcast(None)
            try:
                self.polls += 1
                new_version = _data_version()
                if not woken and new_version is not None and new_version == version and not self.missing:
                    continue
                version = new_version
                self._drain()
                failing = False
            except Exception as exc:
                if not failing and not idle:
                    log.warning("SSE hub poll failed (%s); retrying", exc)
                    # One warning per streak a viewer sees (a streak begun while idle must not hide it).
                    failing = True
                # The connection may be unusable; the next poll opens a new one.
                with contextlib.suppress(Exception):
                    connection.close()
                self._wake.wait(0.5)

    def _broadcast(self, frames: dict[int, list[tuple[int, bytes]]] | None) -> None:
        """Hand ``frames`` (None = a keepalive for everyone) to each event loop that has clients."""
        with self._lock:
            loops = list(self._loops)
        for loop in loops:
            try:
                loop.call_soon_threadsafe(self._fanout, loop, frames)
            except RuntimeError:  # loop closed (a finished test, a shut-down server)
                with self._lock:
                    self._loops.pop(loop, None)

    def _drain(self) -> None:
        self._drain_late()
        while True:
            rows = list(
                Event.objects.filter(id__gt=self.last_id)
                .order_by("id")
                .values_list("id", "org_id", "type", "data")[:BATCH]
            )
            if not rows:
                # The table was flushed/reset (tests, restore): follow it down.
                top = _max_event_id()
                if top < self.last_id:
                    self.last_id = top
                    self.missing.clear()
                return
            self._note_gaps([row[0] for row in rows])
            self.last_id = rows[-1][0]
            self._send(rows)
            if len(rows) < BATCH:
                return

    def _note_gaps(self, ids: list[int]) -> None:
        """Remember the ids between ``last_id`` and ``ids`` that were not there (yet)."""
        now, previous = time.monotonic(), self.last_id
        for event_id in ids:
            if 1 < event_id - previous <= GAP_MAX:
                for gap in range(previous + 1, event_id):
                    self.missing.setdefault(gap, now)
            previous = event_id

    def _drain_late(self) -> None:
        """Send the events that committed after a later one was sent; forget gaps older than GAP_WAIT_S."""
        if not self.missing:
            return
        late = list(
            Event.objects.filter(id__in=list(self.missing)).order_by("id").values_list("id", "org_id", "type", "data")
        )
        for row in late:
            self.missing.pop(row[0], None)
        expired = time.monotonic() - GAP_WAIT_S
        for event_id in [i for i, since in self.missing.items() if since < expired]:
            del self.missing[event_id]
        if late:
            self._send(late, late=True)

    def _send(self, rows: list[tuple[int, int, str, Any]], *, late: bool = False) -> None:
        """Broadcast ``rows`` as frames. A late event's id is below what streams have sent, so it
        travels with a negative queue id: a stream sends such a frame as it is, like a keepalive,
        without its id-order check (the frame itself carries the real id)."""
        frames: dict[int, list[tuple[int, bytes]]] = {}
        for event_id, org_id, type_, data in rows:
            frames.setdefault(org_id, []).append((-event_id if late else event_id, encode(event_id, type_, data)))
        self._broadcast(frames)

    def _fanout(self, loop: asyncio.AbstractEventLoop, frames: dict[int, list[tuple[int, bytes]]] | None) -> None:
        by_org = self._loops.get(loop, {})
        if frames is None:
            for clients in by_org.values():
                for client in clients:
                    if client.queue.empty():
                        client.queue.put_nowait(KEEPALIVE)
            return
        for org_id, items in frames.items():
            for client in list(by_org.get(org_id, ())):
                for item in items:
                    try:
                        client.queue.put_nowait(item)
                    except asyncio.QueueFull:
                        # A stalled reader: tell it to resync rather than grow without bound.
                        client.overflowed = True
                        break


def _data_version() -> int | None:
    """SQLite's commit counter for other connections; None where there is no such thing."""
    if connection.vendor != "sqlite":
        return _max_event_id()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA data_version")
        row = cursor.fetchone()
    return int(row[0])


def _max_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


hub = EventHub()


# -- the view ----------------------------------------------------------------------------


def _org_for(request: HttpRequest) -> Org | None:
    slug = request.GET.get("org", "")
    if slug:
        # Login mode: only an org the user belongs to (another org's stream is the unknown-org 404).
        visible = orgs_visible(request.user) if login_required_here() else Org.objects.all()
        return visible.filter(slug=slug).first()
    return current_org(request)


def _org_and_release(request: HttpRequest) -> Org | None:
    """The org, then close this request thread's DB connection.

    Django keeps one thread (and so one DB connection) per request for as long
    as the response streams; a stream never needs it again, so give it back.
    """
    try:
        return _org_for(request)
    finally:
        connection.close()


def _backlog(org_id: int, after: int) -> list[tuple[int, bytes]]:
    rows = list(
        Event.objects.filter(org_id=org_id, id__gt=after)
        .order_by("id")
        .values_list("id", "type", "data")[: MAX_BACKLOG + 1]
    )
    return [(i, encode(i, t, d)) for i, t, d in rows]


def _parse_last_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


async def _allowed(request: HttpRequest) -> bool:
    """The dashboard's access rule: trusted local mode, or a logged-in user."""
    if not login_required_here():
        # Local mode: the browser that opened the printed login link (web/local_login.py).
        return not local_session_required() or await sync_to_async(has_local_session)(request)
    user = await request.auser()
    return bool(user.is_authenticated)


async def events(request: HttpRequest) -> HttpResponseBase:
    """``GET /events[?org=<slug>][&last_event_id=N]``: the org's live events as SSE."""
    if request.method != "GET":
        return JsonResponse({"error": "Use GET.", "code": "method_not_allowed"}, status=405)
    if not await _allowed(request):
        return JsonResponse({"error": "Log in to follow live events.", "code": "not_authenticated"}, status=401)
    org = await sync_to_async(_org_and_release)(request)
    if org is None:
        return JsonResponse({"error": "There is no such org.", "code": "not_found"}, status=404)
    response = StreamingHttpResponse(_stream(org.pk, _parse_last_id(request)), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"
    return response


async def _stream(org_id: int, last_id: int | None) -> AsyncIterator[bytes]:
    client = await hub.register(org_id)
    try:
        # The floor is fixed before the first byte goes out: "now" means when the stream opened.
        backlog: list[tuple[int, bytes]] = []
        if last_id is None:
            floor = await sync_to_async(_max_event_id, thread_sensitive=False)()
        else:
            floor = last_id
            backlog = await sync_to_async(_backlog, thread_sensitive=False)(org_id, last_id)
        yield f"retry: {int(_setting('MESA_SSE_RETRY_MS', 1500))}\n: hello\n\n".encode()
        if len(backlog) > MAX_BACKLOG:
            floor = await sync_to_async(_max_event_id, thread_sensitive=False)()
            yield encode(floor, "resync", {"reason": "too far behind"})
        elif backlog:
            floor = backlog[-1][0]
            yield b"".join(frame for _, frame in backlog)
        while True:
            if client.overflowed:
                client.overflowed = False
                while not client.queue.empty():
                    floor = max(floor, client.queue.get_nowait()[0])
                yield encode(floor, "resync", {"reason": "too slow"})
                continue
            event_id, frame = await client.queue.get()
            if event_id < 0:
                yield frame  # a keepalive comment, or an event that committed late (EventHub._send)
                continue
            if event_id <= floor:
                continue
            floor = event_id
            # Send whatever else is already waiting in one write.
            chunk = [frame]
            while not client.queue.empty() and len(chunk) < 100:
                event_id, frame = client.queue.get_nowait()
                if event_id > floor:
                    floor = event_id
                    chunk.append(frame)
            yield b"".join(chunk)
    finally:
        hub.unregister(client)
