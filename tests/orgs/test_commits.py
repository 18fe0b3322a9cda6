"""``orgs.commits.CommitWatch``: another connection's commit shows, the watcher's own look does not."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from orgs.commits import CommitWatch, release_pooled_connection
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


def test_it_keeps_the_sqlite_connection_between_cycles() -> None:
    """Releasing gives back only a pooled connection: on SQLite the watch's counter lives on the one it has."""
    watch = CommitWatch()
    watch.changed()
    raw = connection.connection
    release_pooled_connection()
    assert connection.connection is raw and raw is not None
    assert not watch.changed()  # the same connection: no change seen where none happened
