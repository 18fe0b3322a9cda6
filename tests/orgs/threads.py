"""Run a callable from several threads at once against the real test database (not a test module)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_concurrently(fn: Callable[[int], Any], threads: int = 8) -> tuple[list[Any], list[BaseException]]:
    """Call ``fn(n)`` for n in range(threads), all released together; return (results, exceptions).

    Each thread closes its own database connection when done, as the request
    threads of a real server would.
    """
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            barrier.wait()
            results.append(fn(n))
        except BaseException as exc:  # handed back to the test to assert on
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results, errors
