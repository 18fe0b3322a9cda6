"""A tiny, safe template renderer: ``{{ pull_request.title }}`` looks up payload keys and nothing else.

No expressions, filters, calls or attribute access: each dotted part is a dict key (or a list
index), so a template can read the payload it is given and cannot reach any Python object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_FIELD = re.compile(r"\{\{\s*([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*)\s*\}\}")
MAX_VALUE = 20_000


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` in ``context`` (dict keys, list indexes), or None."""
    value: Any = context
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)[:MAX_VALUE]
    return json.dumps(value, ensure_ascii=False)[:MAX_VALUE]


def render(template: str, context: Mapping[str, Any]) -> str:
    """``template`` with every ``{{ path }}`` replaced by the value there (missing → empty)."""
    return _FIELD.sub(lambda m: _text(lookup(context, m.group(1))), template)
