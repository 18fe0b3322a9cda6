"""Threads that live beside the scheduler in its process (the notification worker, the Telegram bot).

The apps above ``runners`` register a factory in their ``AppConfig.ready``; the ``scheduler``
command and ``make run``'s in-process scheduler start whatever is registered. So the engine
never imports the layers above it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from orgs.lazy_views import load_by_name

log = logging.getLogger(__name__)


class Companion(Protocol):
    def start(self) -> None: ...

    def stop(self, timeout: float = 5.0) -> None: ...


_factories: list[Callable[[], Companion]] = []


def register_companion(factory: Callable[[], Companion]) -> None:
    if factory not in _factories:
        _factories.append(factory)


def companions_start() -> list[Companion]:
    """Create and start one of each registered companion; the caller stops them with ``companions_stop``."""
    started: list[Companion] = []
    for factory in _factories:
        companion = factory()
        companion.start()
        started.append(companion)
    return started


def companions_stop(companions: list[Companion], timeout: float = 5.0) -> None:
    for companion in companions:
        companion.stop(timeout=timeout)


# Work the scheduler does on its periodic passes, registered by the apps above (the hooks app's routines):
# functions or their dotted paths (imported at the first pass, not at start-up).
_periodic: list[Callable[[], object] | str] = []


def register_periodic(fn: Callable[[], object] | str) -> None:
    """Call ``fn()`` on the scheduler's periodic passes (it must be quick and safe with two schedulers running)."""
    if fn not in _periodic:
        _periodic.append(fn)


def periodic_functions() -> list[Callable[[], object]]:
    return [load_by_name(fn) if isinstance(fn, str) else fn for fn in _periodic]


def periodic_run() -> None:
    """One call of each registered periodic function; one failing does not stop the others."""
    for fn in periodic_functions():
        try:
            fn()
        except Exception:
            log.exception("periodic %s failed", getattr(fn, "__name__", fn))
