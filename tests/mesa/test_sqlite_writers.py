"""On SQLite, a process's writers queue on one lock (mesa/backends/sqlite3) instead of SQLite's busy handler.

The second writer's connection gets ``busy_timeout=0``: if it reached ``BEGIN IMMEDIATE`` while the first
writer holds SQLite's write lock, SQLite would answer "database is locked" at once. Queued on the lock,
it begins only after the first one has committed, and succeeds.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from mesa.backends.sqlite3.base import _write_lock
from orgs.actors import Actor
from orgs.models import Org
from orgs.services import org_create

pytestmark = pytest.mark.django_db(transaction=True)


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
