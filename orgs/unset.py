"""``UNSET``: the default of a keyword argument the caller left out, told apart from ``None`` (a real value).

A one-member Enum rather than ``object()``: a parameter typed ``str | Unset = UNSET`` tells mypy the
value may be absent, so every use has to narrow it first (``if title is not UNSET:``).
"""

from __future__ import annotations

from enum import Enum
from typing import Final


class Unset(Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
