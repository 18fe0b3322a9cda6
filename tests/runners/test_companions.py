"""Threads beside the scheduler are registered by the apps above runners and started by whoever runs it."""

from __future__ import annotations

from typing import Any

from notifications.apps import notification_threads
from notifications.runtime import NotificationThreads
from runners import companions
from runners.companions import companions_start, companions_stop


class Recorder:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def start(self) -> None:
        self.log.append("start")

    def stop(self, timeout: float = 5.0) -> None:
        self.log.append(f"stop {timeout}")


def test_it_has_the_notification_threads_registered_by_the_notifications_app() -> None:
    assert notification_threads in companions._factories
    made = notification_threads()  # made, not started: no thread runs until start()
    assert isinstance(made, NotificationThreads) and made.worker is None


def test_it_starts_one_of_each_registered_companion_and_stops_them(monkeypatch: Any) -> None:
    log: list[str] = []
    monkeypatch.setattr(companions, "_factories", [])
    companions.register_companion(lambda: Recorder(log))
    started = companions_start()
    assert len(started) == 1 and log == ["start"]
    companions_stop(started, timeout=2.0)
    assert log == ["start", "stop 2.0"]


def test_it_registers_a_factory_once(monkeypatch: Any) -> None:
    monkeypatch.setattr(companions, "_factories", [])
    companions.register_companion(NotificationThreads)
    companions.register_companion(NotificationThreads)
    assert companions._factories == [NotificationThreads]
