"""A tiny TOML writer for the shapes an export needs (Python reads TOML with ``tomllib`` but cannot write it).

Shapes: a document of top-level keys, tables (``[name]``) and arrays of tables (``[[name]]``); values are
strings, booleans, integers, floats, lists of those, and flat dicts (inline tables). ``None`` is left out
(TOML has no null). Multi-line strings are written as literal ``'''`` blocks when they can be, so a
description reads as text; anything else is a JSON-escaped basic string, which TOML reads the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if BARE_KEY.match(key) else _basic(key)


def _basic(text: str) -> str:
    # JSON's escapes are a subset of TOML's; DEL is the one control character JSON leaves raw.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _string(text: str) -> str:
    literal_ok = (
        "\n" in text
        and "'''" not in text
        and not text.endswith("'")
        and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text.replace("\r\n", "\n"))
        and "\r" not in text
    )
    # A newline right after the opening ''' is dropped by readers, so the text starts on its own line.
    return f"'''\n{text}'''" if literal_ok else _basic(text)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"Cannot write {type(value).__name__} as TOML")


def _pairs(table: dict[str, Any]) -> list[str]:
    return [f"{_key(k)} = {_value(v)}" for k, v in table.items() if v is not None]


def dumps(document: dict[str, Any]) -> str:
    """Top-level scalars first, then ``[table]`` for dicts of scalars and ``[[table]]`` for lists of dicts."""
    lines: list[str] = []
    scalars = {k: v for k, v in document.items() if not _is_table(v) and not _is_table_array(v)}
    lines.extend(_pairs(scalars))
    for key, value in document.items():
        if _is_table(value):
            lines.extend(["", f"[{_key(key)}]", *_pairs(value)])
        elif _is_table_array(value):
            for row in value:
                lines.extend(["", f"[[{_key(key)}]]", *_pairs(row)])
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and not any(isinstance(v, dict) for v in value.values())


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
