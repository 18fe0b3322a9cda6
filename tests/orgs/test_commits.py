"""``orgs.commits.CommitWatch``: another connection's commit shows, the watcher's own look does not."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from orgs.commits import CommitWatch
from tests.factories import make_org

pytestmark = pytest.mark.django_db(transaction=True)


def _in_another_thread(fn: object) -> None:
    def work() -> None:
        try:
            fn()  # type: ignore[operator]
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)


def test_it_sees_a_commit_of_another_connection_and_nothing_else() -> None:
    watch = CommitWatch()
    assert watch.changed()  # the first look knows nothing yet
    assert not watch.changed()
    assert not watch.changed()
    _in_another_thread(lambda: make_org(slug="elsewhere"))
    assert watch.changed()
    assert not watch.changed()


def test_it_counts_a_new_connection_as_a_change() -> None:
    watch = CommitWatch()
    watch.changed()
    assert not watch.changed()
    connection.close()  # the counter is per connection: a fresh one may start at the same value
    assert watch.changed()
    assert not watch.changed()
