"""One error shape for the whole API: ``{"error": "<sentence>", "code": "<machine_code>"}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from orgs.errors import MesaError


def _first_error(detail: Any, path: str = "") -> tuple[str, str]:
    """(field path, message) of the first error in a DRF ValidationError detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if not path else f"{path}.{key}"
            return _first_error(value, "" if key == "non_field_errors" else name)
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], path)
    return path, str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, MesaError):
        status, body = exc.status, exc.as_dict()
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="mesa"'
    elif isinstance(exc, exceptions.ValidationError):
        field, message = _first_error(exc.detail)
        status = 400
        text = f"{field}: {message}" if field else message
        body = {"error": text, "code": "invalid", **({"field": field} if field else {})}
    elif isinstance(exc, exceptions.ParseError):
        status, body = 400, {"error": f"The body is not valid JSON ({exc.detail}).", "code": "malformed_json"}
    elif isinstance(exc, RequestDataTooBig):
        status, body = 413, {"error": "The request body is too large.", "code": "too_large"}
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        status, body = (
            415,
            {"error": "Send JSON with 'Content-Type: application/json'.", "code": "unsupported_media_type"},
        )
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        status, body = 401, {"error": str(exc.detail), "code": "not_authenticated"}
        headers["WWW-Authenticate"] = 'Bearer realm="mesa"'
    elif isinstance(exc, Http404 | exceptions.NotFound):
        status, body = 404, {"error": "Not found.", "code": "not_found"}
    elif isinstance(exc, PermissionDenied | exceptions.PermissionDenied):
        status, body = 403, {"error": "You may not do this.", "code": "forbidden"}
    elif isinstance(exc, exceptions.MethodNotAllowed):
        status, body = 405, {"error": str(exc.detail), "code": "method_not_allowed"}
    elif isinstance(exc, exceptions.Throttled):
        status, body = 429, {"error": "Too many requests; slow down.", "code": "rate_limited"}
        wait = getattr(exc, "wait", None)
        if wait:
            headers["Retry-After"] = str(int(wait))
    elif isinstance(exc, exceptions.APIException):
        status, body = exc.status_code, {"error": str(exc.detail), "code": str(exc.default_code)}
    else:
        return None  # a real bug: let Django log it and answer 500
    return Response(body, status=status, headers=headers)


class ErrorOutput(serializers.Serializer):
    """The one error shape (extra keys such as ``field``, ``allowed`` or ``existing_key`` may follow)."""

    error = serializers.CharField(help_text="A sentence for humans (and agents) saying what went wrong.")
    code = serializers.CharField(help_text="A stable machine code, e.g. invalid, forbidden, illegal_transition.")
    field = serializers.CharField(required=False, help_text="The input field at fault (400 only).")


_ERROR_TEXT = {
    400: "Bad input (the field is named), or malformed JSON.",
    401: "Missing, unknown, expired or revoked key.",
    403: "The key may not do this (the reason is given).",
    404: "Not found in the key's org.",
    409: "Conflict with the current state (duplicate, illegal transition, already claimed).",
    413: "The body is over the size limit.",
    415: "The body is not JSON.",
}


def error_responses(*statuses: int) -> dict[int, Any]:
    """drf-spectacular ``responses`` entries in the error shape for ``statuses`` (401 always included)."""
    # Only the schema generation needs drf-spectacular's helpers: keep them off the request path's imports.
    from drf_spectacular.utils import OpenApiResponse

    wanted = sorted({401, *statuses})
    return {s: OpenApiResponse(response=ErrorOutput, description=_ERROR_TEXT.get(s, "Error.")) for s in wanted}
