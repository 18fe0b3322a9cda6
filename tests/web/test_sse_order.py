"""The SSE hub sends an event that commits after one with a higher id (PostgreSQL), once."""

from __future__ import annotations

from typing import Any

import pytest

from orgs.models import Event
from tests.factories import make_org
from tests.orgs.postgres import pg_database, run_mesa_script
from web import sse


class RecordingHub(sse.EventHub):
    """The hub's reader, with what it would hand to the streams recorded instead."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[int] = []

    def _broadcast(self, frames: dict[int, list[tuple[int, bytes]]] | None) -> None:
        for items in (frames or {}).values():
            self.sent.extend(queue_id for queue_id, _ in items)


def _event(org: Any, pk: int) -> None:
    Event.objects.create(pk=pk, org=org, type="issue_updated", data={"n": pk})


@pytest.mark.django_db
def test_it_sends_an_event_that_appears_below_the_last_id_it_read(monkeypatch: pytest.MonkeyPatch) -> None:
    org = make_org()
    hub = RecordingHub()
    hub.last_id = base = sse._max_event_id()
    _event(org, base + 2)  # committed first, although its id is the higher one
    hub._drain()
    assert hub.sent == [base + 2] and set(hub.missing) == {base + 1}
    _event(org, base + 1)  # the slower transaction commits
    hub._drain()
    # Sent once, as a late frame (a negative queue id: streams send it whatever their floor).
    assert hub.sent == [base + 2, -(base + 1)] and not hub.missing
    hub._drain()
    assert hub.sent == [base + 2, -(base + 1)]


@pytest.mark.django_db
def test_it_stops_looking_for_a_gap_that_never_fills(monkeypatch: pytest.MonkeyPatch) -> None:
    org = make_org()
    hub = RecordingHub()
    hub.last_id = base = sse._max_event_id()
    _event(org, base + 3)  # base + 1 and base + 2 were rolled back
    hub._drain()
    assert set(hub.missing) == {base + 1, base + 2}
    monkeypatch.setattr(sse, "GAP_WAIT_S", 0.0)
    hub._drain()
    assert not hub.missing and hub.sent == [base + 3]


# Two transactions on PostgreSQL: A takes its id first and commits last.
SCRIPT = """
import json, threading
from django.db import transaction
from orgs.models import Event, Org
from web.sse import EventHub, _max_event_id
sent = []
class Hub(EventHub):
    def _broadcast(self, frames):
        for items in (frames or {}).values():
            sent.extend(i for i, _ in items)
org = Org.objects.create(name="Acme", slug="acme", issue_prefix="ACME")
hub = Hub()
hub.last_id = _max_event_id()
inserted, release = threading.Event(), threading.Event()
ids = {}
def slow():
    with transaction.atomic():
        ids["a"] = Event.objects.create(org=org, type="issue_updated", data={}).pk
        inserted.set()
        release.wait(30)
t = threading.Thread(target=slow)
t.start()
inserted.wait(30)
ids["b"] = Event.objects.create(org=org, type="issue_updated", data={}).pk
hub._drain()
before = list(sent)
release.set()
t.join()
hub._drain()
print(json.dumps({"ids": ids, "before": before, "after": sent}))
"""


def test_it_delivers_an_event_committed_out_of_id_order_on_postgres() -> None:
    with pg_database() as url:
        out = run_mesa_script(url, SCRIPT)
    a, b = out["ids"]["a"], out["ids"]["b"]
    assert a < b
    assert out["before"] == [b]  # A was not committed yet: only B was visible
    assert out["after"] == [b, -a]  # then A, once, as a late frame
