"""Django's ASGI handler with its request threads reused and one thread hop per request.

Django runs each request's sync code (middleware, views, the ORM) in a thread-sensitive context,
and by default every request gets a context of its own: a new thread, and with it a new database
connection (connections are per thread), both thrown away when the request ends. Here a request
borrows one of a fixed set of single-thread executors instead (``MESA_REQUEST_THREADS``, default 1),
so threads and their connections live on between requests. Long-lived streams (``/events``) would
hold a thread of their own for as long as a tab stays open (Django's per-request context keeps its
thread until the response ends), so they all share one more thread: their sync work is only the
middleware at the start and the close at the end, and the stream itself is async.

When every pooled executor is busy, a request waits for one, first come first served. Only when the
line has not moved for ``MESA_REQUEST_QUEUE_MS`` (default 50: no pooled thread finished a request in
that time) does a waiting request fall back to Django's own behaviour (a thread of its own, and a new
database connection) rather than wait behind a slow request. An earlier rule let a request leave after
waiting that long, however fast the line moved: with 50 clients racing for checkouts most requests left
it, each paying for a thread and a connection (4.9 ms of server CPU per attempt instead of 1.7, 268
instead of 590 attempts/s). Why so few threads: the GIL runs one thread's
Python at a time anyway, and ten request threads taking turns made each request cost more CPU and
held the SQLite write lock longer (at 10 clients posting comments to ``make run``'s two workers: eight
threads each, 250–349 req/s, p99 96–123 ms; one thread and the queue, 352–462 req/s, p99 34–61 ms,
same machine, alternating runs).

Mesa's middleware and views are sync. Under ASGI, Django builds an async middleware chain and
adapts at every sync/async border, and sends ``request_started`` and closes the response in
further hops: five trips between the event loop and a thread per request, measured at a fifth of a
GET's server time. Here the chain is built sync, and a request that is not a stream is served in
one trip: the request thread sends ``request_started``, creates the request, runs the chain and
closes the response (``request_finished``, on the thread whose connection it closes); only the
bytes are sent from the event loop. Streams keep Django's own ``handle`` (it watches for the
client's disconnect) over the same sync chain.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

# Paths served as long-lived streams: these never borrow a pooled thread.
STREAM_PATHS = frozenset({"/events"})


class PooledThreadsASGIHandler(ASGIHandler):
    def __init__(self, threads: int | None = None, queue_s: float | None = None) -> None:
        super().__init__()
        # The chain is sync (see the module's docstring): rebuilt for sync mode.
        self.load_middleware(is_async=False)
        threads = settings.MESA_REQUEST_THREADS if threads is None else threads
        self._queue_s = settings.MESA_REQUEST_QUEUE_MS / 1000 if queue_s is None else queue_s
        # ThreadPoolExecutor starts its thread on first use, so unused slots cost nothing.
        self._idle: list[ThreadPoolExecutor] = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="mesa-request") for _ in range(threads)
        ]
        self._waiting: collections.deque[asyncio.Future[ThreadPoolExecutor]] = collections.deque()
        self._moved = time.monotonic()  # when a pooled thread last started or finished a request
        self._streams = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mesa-streams")

    async def _take(self) -> ThreadPoolExecutor | None:
        """A pooled executor, or None: serve on a thread of its own (the line stood still for the queue time)."""
        if self._idle:
            self._moved = time.monotonic()  # a request starts: the line's clock starts with it
            return self._idle.pop()
        if self._queue_s <= 0:
            return None
        waiter: asyncio.Future[ThreadPoolExecutor] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            while True:
                # Leave the line only when it has not moved for the queue time (a request holds its thread
                # that long): a long line of quick requests is served soonest by waiting in it.
                remaining = self._moved + self._queue_s - time.monotonic()
                if remaining > 0:
                    try:
                        return await asyncio.wait_for(asyncio.shield(waiter), remaining)
                    except TimeoutError:
                        pass
                if waiter.done() and not waiter.cancelled():
                    return waiter.result()
                if self._moved + self._queue_s <= time.monotonic():
                    waiter.cancel()
                    with contextlib.suppress(ValueError):
                        self._waiting.remove(waiter)
                    return None
        except BaseException:  # the request was cancelled while it waited: an executor handed over goes back
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiting.remove(waiter)
            raise

    def _give_back(self, executor: ThreadPoolExecutor) -> None:
        self._moved = time.monotonic()
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(executor)
                return
        self._idle.append(executor)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        if scope["path"] in STREAM_PATHS:
            # Every stream's context shares this executor: calls from them queue on its one thread.
            async with ThreadSensitiveContext(executor=self._streams):
                await self.handle(scope, receive, send)
            return
        # The event loop runs one coroutine step at a time: taking and giving back need no lock.
        executor = await self._take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self._handle_in_one_trip(scope, receive, send)
        finally:
            if executor is not None:
                self._give_back(executor)

    async def get_response_async(self, request: Any) -> HttpResponseBase:
        """Django's ``handle`` (streams) through the sync chain, in one trip to the request thread."""
        response: HttpResponseBase = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        return response

    async def _handle_in_one_trip(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            await self.send_response(response, send)
            if response.streaming:
                # Its iterator was open while it was sent: closed after it, as Django does.
                await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """On the request thread: what Django's ``handle`` does before and after sending, minus the hops."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None
            response: HttpResponseBase = error_response
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            # The content is in memory: closing now (request_finished) changes nothing that is sent.
            response.close()
        return response


def pooled_asgi_application() -> PooledThreadsASGIHandler:
    """What ``django.core.asgi.get_asgi_application()`` does, with the pooled handler."""
    django.setup(set_prefix=False)
    return PooledThreadsASGIHandler()
