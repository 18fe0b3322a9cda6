"""The delivery worker's loop: a cycle after a commit or when a retry is due, not every interval while idle."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from notifications import worker
from notifications.services import channel_create, enqueue
from tests.factories import SYSTEM, make_org

pytestmark = pytest.mark.django_db(transaction=True)


class CountingStop(threading.Event):
    """The loop's stop flag, counting how often the loop waited on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        return super().wait(timeout)


def _until(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_it_cycles_again_only_after_a_commit_while_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    cycles: list[int] = []
    real = worker.run_once

    def counted() -> tuple[int, int]:
        cycles.append(1)
        return real()

    monkeypatch.setattr(worker, "run_once", counted)
    stop = CountingStop()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), kwargs={"interval_s": 0.01})
    thread.start()
    try:
        _until(lambda: stop.waits >= 100)  # a second of 10 ms intervals with nothing committed
        assert len(cycles) == 1
        make_org(slug="wakes-the-worker")
        _until(lambda: len(cycles) >= 2)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_it_rests_until_the_earliest_retry() -> None:
    assert worker._rest_s(2.0) == worker.IDLE_CYCLE_S  # nothing to send
    org = make_org()
    channel = channel_create(
        actor=SYSTEM,
        org=org,
        kind="webhook",
        config={"url": "http://127.0.0.1:9/"},
        secret="a-signing-secret-of-some-length",
    )
    enqueue(channel=channel, kind="test", payload={}, now=timezone.now() + timedelta(seconds=20))
    assert 15 < worker._rest_s(2.0) <= 20
    enqueue(channel=channel, kind="test", payload={}, now=timezone.now() - timedelta(seconds=5))
    assert worker._rest_s(2.0) == 2.0  # already due: the next interval
