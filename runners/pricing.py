"""Per-model token prices: the cost of a run when the CLI reports tokens but no cost.

The table lives in ``runners/prices.toml`` (USD per million tokens: ``input``,
``cached_input``, ``output``, ``cache_write``). ``MESA_PRICES_FILE`` (a setting or an
environment variable) names an override file of the same shape whose entries replace or
extend the built-in ones. Both files are read at use time (re-read when they change), so an
edited price applies to the next event without a restart.

Model names match by the longest key that is a prefix of the name (case-insensitive, after
dropping a ``provider/`` prefix), so ``claude-sonnet`` prices every Sonnet and ``gpt-5-mini``
wins over ``gpt-5``. An unknown model costs ``Decimal(0)``: :func:`is_priced` tells callers
(and ``doctor``) that the figure is missing rather than free.
"""

from __future__ import annotations

import logging
import os
import threading
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings

from runners.base import Usage

logger = logging.getLogger(__name__)

BUILTIN_PRICES = Path(__file__).with_name("prices.toml")
MILLION = Decimal(1_000_000)


class PricesFileError(ValueError):
    """A prices file that cannot be read or has a malformed entry."""


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: Decimal
    cached_input: Decimal
    output: Decimal
    cache_write: Decimal

    def cost(self, usage: Usage) -> Decimal:
        total = (
            self.input * usage.tokens_in
            + self.cached_input * usage.cache_read
            + self.output * usage.tokens_out
            + self.cache_write * usage.cache_write
        )
        return total / MILLION


_lock = threading.Lock()
_cache: dict[str, tuple[int, dict[str, Price]]] = {}  # path -> (mtime_ns, table)


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PricesFileError(f"{where}: expected a number, got {value!r}")
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise PricesFileError(f"{where}: expected a number, got {value!r}") from exc
    if result < 0 or not result.is_finite():
        raise PricesFileError(f"{where}: a price must be a finite number >= 0, got {value!r}")
    return result


def parse_prices(text: str, source: str = "prices") -> dict[str, Price]:
    """Parse a prices TOML document into ``{lowercased model key: Price}``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PricesFileError(f"{source}: invalid TOML: {exc}") from exc
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise PricesFileError(f"{source}: [models] must be a table")
    table: dict[str, Price] = {}
    for key, entry in models.items():
        where = f"{source}: models.{key!r}"
        if not isinstance(entry, dict):
            raise PricesFileError(f"{where} must be a table")
        unknown = set(entry) - {"input", "cached_input", "output", "cache_write"}
        if unknown:
            raise PricesFileError(f"{where}: unknown field(s) {sorted(unknown)}")
        if "input" not in entry or "output" not in entry:
            raise PricesFileError(f"{where}: 'input' and 'output' are required")
        inp = _decimal(entry["input"], f"{where}.input")
        table[key.lower()] = Price(
            input=inp,
            cached_input=_decimal(entry.get("cached_input", entry["input"]), f"{where}.cached_input"),
            output=_decimal(entry["output"], f"{where}.output"),
            cache_write=_decimal(entry.get("cache_write", entry["input"]), f"{where}.cache_write"),
        )
    return table


def _load(path: Path) -> dict[str, Price]:
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise PricesFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    key = str(path)
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == mtime:
            return cached[1]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PricesFileError(f"{path}: cannot read: {exc}") from exc
    table = parse_prices(text, str(path))
    with _lock:
        _cache[key] = (mtime, table)
    return table


def override_path() -> str:
    """The override file named by the ``MESA_PRICES_FILE`` setting or environment variable ("" = none)."""
    try:
        configured = str(getattr(settings, "MESA_PRICES_FILE", "") or "")
    except Exception:  # pricing also works outside a configured Django process
        configured = ""
    return configured or os.environ.get("MESA_PRICES_FILE", "")


def load_prices() -> dict[str, Price]:
    """The built-in table with the override file's entries applied.

    A broken override file is logged and ignored (the built-in prices still apply), so a typo
    in a price never crashes running agents; :func:`check_prices_file` reports it loudly.
    """
    table = dict(_load(BUILTIN_PRICES))
    extra = override_path()
    if extra:
        try:
            table.update(_load(Path(extra)))
        except PricesFileError as exc:
            logger.error("ignoring MESA_PRICES_FILE: %s", exc)
    return table


def check_prices_file(path: str | Path) -> dict[str, Price]:
    """Parse a prices file, raising :class:`PricesFileError` with a clear message when it is broken."""
    return _load(Path(path))


def normalize_model(model: str) -> str:
    name = (model or "").strip().lower()
    return name.rsplit("/", 1)[-1] if "/" in name else name


def price_for(model: str) -> Price | None:
    """The price entry for ``model`` (longest prefix match), or None when the model is unknown."""
    name = normalize_model(model)
    if not name:
        return None
    table = load_prices()
    if name in table:
        return table[name]
    best = max((key for key in table if name.startswith(key)), key=len, default=None)
    return table[best] if best is not None else None


def is_priced(model: str) -> bool:
    return price_for(model) is not None


def price(model: str, usage: Usage) -> Decimal:
    """The USD cost of ``usage`` on ``model``; ``Decimal(0)`` for an unknown model (see :func:`is_priced`)."""
    entry = price_for(model)
    if entry is None:
        return Decimal(0)
    return entry.cost(usage)
