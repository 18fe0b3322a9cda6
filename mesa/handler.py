"""Django's ASGI handler with its request threads reused.

Django runs each request's sync code (middleware, views, the ORM) in a thread-sensitive context,
and by default every request gets a context of its own: a new thread, and with it a new database
connection (connections are per thread), both thrown away when the request ends. Here a request
borrows one of a fixed set of single-thread executors instead, so threads and their connections
live on between requests. Long-lived streams (``/events``) would hold a thread of their own for as
long as a tab stays open (Django's per-request context keeps its thread until the response ends),
so they all share one more thread: their sync work is only the middleware at the start and the
close at the end, and the stream itself is async. When every pooled executor is busy, a request
falls back to Django's own behaviour rather than wait.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

# Paths served as long-lived streams: these never borrow a pooled thread.
STREAM_PATHS = frozenset({"/events"})


class PooledThreadsASGIHandler(ASGIHandler):
    def __init__(self, threads: int = 8) -> None:
        super().__init__()
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
                await self.handle(scope, receive, send)
        finally:
            if executor is not None:
                self._idle.append(executor)


def pooled_asgi_application() -> PooledThreadsASGIHandler:
    """What ``django.core.asgi.get_asgi_application()`` does, with the pooled handler."""
    django.setup(set_prefix=False)
    return PooledThreadsASGIHandler()
