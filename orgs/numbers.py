"""Whole numbers from user input (query strings, form fields, path segments)."""

from __future__ import annotations

from typing import Any

MAX_ID = 2**63 - 1


def whole_number(raw: Any, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """``raw`` as an int in [minimum, maximum], else None.

    Unlike ``str.isdigit()`` (true for "²", on which ``int()`` then raises) this
    never lets odd input through to a 500.
    """
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if minimum <= value <= maximum else None


def row_id(raw: Any) -> int | None:
    """A positive row id from a path or body value, or None when it cannot name a row."""
    return whole_number(raw, minimum=1)
