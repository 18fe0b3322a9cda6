"""On SQLite, a process's writers queue on one lock (mesa/backends/sqlite3) instead of SQLite's busy handler.

The second writer's connection gets ``busy_timeout=0``: if it reached ``BEGIN IMMEDIATE`` while the first
writer holds SQLite's write lock, SQLite would answer "database is locked" at once. Queued on the lock,
it begins only after the first one has committed, and succeeds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from mesa.backends.sqlite3.base import _write_lock, file_lock
from orgs.actors import Actor
from orgs.models import Org
from orgs.services import org_create

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[2]


def test_it_queues_a_second_writer_behind_the_first_in_process() -> None:
    assert connection.vendor == "sqlite"
    lock = _write_lock(str(connection.settings_dict["NAME"]))
    inside, go = threading.Event(), threading.Event()
    order: list[str] = []
    errors: list[Any] = []

    def first() -> None:
        try:
            with transaction.atomic():
                org_create(actor=Actor.system("test"), name="First", slug="first", issue_prefix="FST")
                order.append("first in")
                inside.set()
                go.wait(10)
            order.append("first committed")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def second() -> None:
        try:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout=0")  # SQLite's own wait is off: only the queue can wait
            with transaction.atomic():
                order.append("second in")
                org_create(actor=Actor.system("test"), name="Second", slug="second", issue_prefix="SND")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.2)  # it is waiting (not failed): the first writer still holds the lock
    assert b.is_alive() and lock.locked() and errors == []
    go.set()
    a.join(10)
    b.join(10)
    assert errors == []
    assert order == ["first in", "first committed", "second in"]
    assert set(Org.objects.values_list("slug", flat=True)) >= {"first", "second"}
    assert not lock.locked()  # released at commit


def test_it_releases_the_queue_when_a_transaction_rolls_back() -> None:
    lock = _write_lock(str(connection.settings_dict["NAME"]))
    with pytest.raises(RuntimeError), transaction.atomic():
        org_create(actor=Actor.system("test"), name="Gone", slug="gone", issue_prefix="GON")
        assert lock.locked()
        raise RuntimeError("boom")
    assert not lock.locked()
    assert not Org.objects.filter(slug="gone").exists()


HOLDER = """
import sys, time
from pathlib import Path
from mesa.backends.sqlite3.base import file_lock
fd = file_lock(sys.argv[1], 5)
assert fd is not None
Path(sys.argv[2]).write_text("held")
time.sleep(float(sys.argv[3]))
"""


def test_it_queues_a_writer_behind_another_processs_writer(tmp_path: Path) -> None:
    """Processes (make run's web workers, the scheduler) queue on the file lock, not in SQLite's busy handler."""
    name = str(connection.settings_dict["NAME"])
    held = tmp_path / "held"
    other = subprocess.Popen([sys.executable, "-c", HOLDER, name, str(held), "0.6"], cwd=REPO)
    try:
        deadline = time.monotonic() + 20
        while not held.exists():
            assert other.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        assert file_lock(name, 0.05) is None  # held by the other process: not free within 50 ms
        started = time.monotonic()
        with transaction.atomic():  # waits for the other process's lock, then begins
            waited = time.monotonic() - started
            org_create(actor=Actor.system("test"), name="After", slug="after", issue_prefix="AFT")
        assert waited > 0.2
        assert other.wait(10) == 0
    finally:
        other.kill()
    fd = file_lock(name, 0.05)
    assert fd is not None  # released at commit
    os.close(fd)
