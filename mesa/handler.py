"""Django's ASGI handler with its request threads reused and one thread hop per request.

Django runs each request's sync code (middleware, views, the ORM) in a thread-sensitive context,
and by default every request gets a context of its own: a new thread, and with it a new database
connection (connections are per thread), both thrown away when the request ends. Here a request
borrows one of a fixed set of single-thread executors instead, so threads and their connections
live on between requests. Long-lived streams (``/events``) would hold a thread of their own for as
long as a tab stays open (Django's per-request context keeps its thread until the response ends),
so they all share one more thread: their sync work is only the middleware at the start and the
close at the end, and the stream itself is async. When every pooled executor is busy, a request
falls back to Django's own behaviour rather than wait.

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

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

# Paths served as long-lived streams: these never borrow a pooled thread.
STREAM_PATHS = frozenset({"/events"})


class PooledThreadsASGIHandler(ASGIHandler):
    def __init__(self, threads: int = 8) -> None:
        super().__init__()
        # The chain is sync (see the module's docstring): rebuilt for sync mode.
        self.load_middleware(is_async=False)
        # ThreadPoolExecutor starts its thread on first use, so unused slots cost nothing.
        self._idle: list[ThreadPoolExecutor] = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="mesa-request") for _ in range(threads)
        ]
        self._streams = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mesa-streams")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        if scope["path"] in STREAM_PATHS:
            # Every stream's context shares this executor: calls from them queue on its one thread.
            async with ThreadSensitiveContext(executor=self._streams):
                await self.handle(scope, receive, send)
            return
        # The event loop runs one coroutine step at a time: taking and giving back need no lock.
        executor = self._idle.pop() if self._idle else None
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self._handle_in_one_trip(scope, receive, send)
        finally:
            if executor is not None:
                self._idle.append(executor)

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
