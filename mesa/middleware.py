"""Errors outside the happy path, answered in the API's shape under ``/api/``.

DRF's handler (``api.errors``) shapes what a view raises on purpose; this middleware catches the
rest on API paths: an unknown route is a JSON 404 (not the HTML page), a database that is busy
(locked past its timeout) or read-only is a 503 with ``Retry-After``, and any other exception is a
500 ``{"error", "code": "server_error"}`` with the traceback in the log, never in the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from axes.middleware import AxesMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger("mesa.api")
RETRY_AFTER_S = 2
BUSY_MARKERS = ("database is locked", "database table is locked", "readonly database", "read-only")


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def busy_answer(exc: OperationalError) -> JsonResponse | None:
    """The 503 for a busy or read-only database, or None for another database error."""
    text = str(exc).lower()
    if not any(marker in text for marker in BUSY_MARKERS):
        return None
    readonly = "read" in text and "only" in text
    response = JsonResponse(
        {
            "error": "The database is read-only; the operator must fix it."
            if readonly
            else "The database is busy; try again in a moment.",
            "code": "database_unavailable" if readonly else "database_busy",
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


class ApiErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api(request)
            and response.status_code == 404
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse({"error": f"No API route {request.path}.", "code": "not_found"}, status=404)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api(request):
            return None
        if isinstance(exception, OperationalError):
            busy = busy_answer(exception)
            if busy is not None:
                log.warning("%s %s: %s", request.method, request.path, exception)
                return busy
        log.error("%s %s failed", request.method, request.path, exc_info=exception)
        return JsonResponse({"error": "Internal error; it was logged.", "code": "server_error"}, status=500)


class SyncAxesMiddleware(AxesMiddleware):
    """django-axes' middleware, sync only.

    Axes declares itself async-capable. Behind the sync middlewares above it, Django then adapts twice
    per request: async_to_sync into Axes, and sync_to_async again for the view — two more thread hops
    and event-loop round trips on every request (a third of a GET's server time). Sync only, the whole
    chain runs on the one request thread. (Its sync path is also the one that passes the response and
    the credentials to the lockout handler in the right order.)
    """

    async_capable = False


class PageMessageMiddleware(MessageMiddleware):
    """Django's messages (flash notices), for pages only: the API never shows one, and opening the
    message store on every API request (its cookie, its storage class) was a tenth of a list's CPU."""

    def process_request(self, request: HttpRequest) -> None:
        if not is_api(request):
            super().process_request(request)
