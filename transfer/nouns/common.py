"""Helpers the noun modules share: timestamps, JSONL, TOML reading, matching rows by position."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from transfer import toml
from transfer.registry import Bundle

T = TypeVar("T")


def ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_ts(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def write_toml(bundle: Bundle, path: str, document: dict[str, Any]) -> None:
    bundle[path] = toml.dumps(document)


def read_toml(bundle: Bundle, path: str) -> dict[str, Any]:
    text = bundle.get(path)
    return tomllib.loads(text) if text else {}


def write_jsonl(bundle: Bundle, path: str, rows: Iterable[dict[str, Any]]) -> None:
    lines = [json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows]
    if lines:
        bundle[path] = "\n".join(lines) + "\n"


def read_jsonl(bundle: Bundle, path: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in bundle.get(path, "").splitlines() if line.strip()]


def nth_match(candidates: Sequence[T], taken: set[int]) -> tuple[int, T] | None:
    """The first candidate not matched yet (rows without a natural key are matched in order)."""
    for index, row in enumerate(candidates):
        if id(row) not in taken:
            taken.add(id(row))
            return index, row
    return None
