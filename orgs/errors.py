"""Domain errors raised by services and selectors.

Each carries a machine ``code`` and an HTTP ``status`` so the API can render the
one error shape ``{"error": ..., "code": ...}`` and HTML views can show the
message inline, without either re-deciding what went wrong.
"""

from __future__ import annotations

from typing import Any


class MesaError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, **self.extra}


class InvalidInput(MesaError):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None, **extra: Any) -> None:
        if field:
            extra["field"] = field
        super().__init__(message, code=code, **extra)


class NotAuthenticated(MesaError):
    status = 401
    code = "not_authenticated"


class Forbidden(MesaError):
    status = 403
    code = "forbidden"


class NotFound(MesaError):
    status = 404
    code = "not_found"


class Conflict(MesaError):
    status = 409
    code = "conflict"
