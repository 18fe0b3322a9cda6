"""Orgs, the audit trail and the live-event feed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from orgs.actors import Actor
from orgs.errors import Conflict, InvalidInput, NotFound
from orgs.events import EventType, add_listener, event_publish, remove_listener
from orgs.models import Activity, Event, Org
from orgs.selectors import org_default, org_get
from orgs.services import org_create, org_update
from tests.factories import make_issue, make_org

SYSTEM = Actor.system("tests")


def test_it_makes_the_first_org_the_default(db: None) -> None:
    first = make_org(slug="first")
    second = make_org(slug="second")
    assert first.is_default and not second.is_default
    assert org_default() == first
    assert org_get("second") == second
    with pytest.raises(NotFound):
        org_get("third")


def test_it_normalises_and_validates_the_prefix(db: None) -> None:
    assert make_org(issue_prefix=" mesa2 ").issue_prefix == "MESA2"
    for bad in ("", "2MESA", "ME-SA", "ABCDEFGHIJK"):
        with pytest.raises(InvalidInput) as exc:
            make_org(issue_prefix=bad)
        assert exc.value.extra["field"] == "issue_prefix"


def test_it_refuses_a_duplicate_slug(db: None) -> None:
    make_org(name="Acme", slug="acme")
    with pytest.raises(Conflict) as exc:
        org_create(actor=SYSTEM, name="Acme again", slug="ACME")
    assert exc.value.code == "duplicate"
    assert Org.objects.count() == 1


def test_it_updates_an_org_without_resetting_its_issue_counter(org: Any) -> None:
    make_issue(org)
    make_issue(org)
    org_update(actor=SYSTEM, org=org, name="Acme Inc", features={"telegram": True})
    row = Org.objects.get(pk=org.pk)
    assert row.issue_seq == 2
    assert row.name == "Acme Inc" and row.feature("telegram") and not row.feature("discord")
    assert make_issue(org).key == "ACME-3"
    activity = Activity.objects.filter(object_type="org", verb="updated").get()
    assert activity.details["changes"] == {"name": ["Acme", "Acme Inc"], "features.telegram": [False, True]}


def test_it_writes_no_activity_for_a_no_op_update(org: Any) -> None:
    before = Activity.objects.count()
    org_update(actor=SYSTEM, org=org, name="Acme", issue_prefix="acme", features={"telegram": False})
    assert Activity.objects.count() == before


def test_it_records_activity_with_its_live_event(org: Any) -> None:
    user_actor = Actor.human(label="alice")
    issue = make_issue(org, actor=user_actor, title="Audit me")
    row = Activity.objects.filter(verb="created", object_type="issue").get()
    assert (row.actor_kind, row.actor_label, row.object_id) == ("human", "alice", issue.key)
    event = Event.objects.filter(type="activity", data__id=row.pk).get()
    assert event.data["verb"] == "created" and event.data["object_id"] == issue.key
    assert event.org_id == org.pk


@pytest.mark.django_db(transaction=True)
def test_it_wakes_listeners_only_after_commit() -> None:
    org = make_org()
    seen: list[str] = []

    def listener(event: Event) -> None:
        seen.append(event.type)

    def broken(event: Event) -> None:
        raise RuntimeError("a broken listener must not break writes")

    add_listener(broken)
    add_listener(listener)
    try:
        with transaction.atomic():
            event_publish(org=org, type=EventType.WIKI_UPDATED, data={"slug": "committed"})
            assert seen == []
        assert seen == ["wiki_updated"]
        with pytest.raises(ValueError), transaction.atomic():
            event_publish(org=org, type=EventType.LABEL_CREATED, data={"name": "rolled-back"})
            raise ValueError
        assert seen == ["wiki_updated"]
        assert not Event.objects.filter(type=EventType.LABEL_CREATED).exists()
    finally:
        remove_listener(listener)
        remove_listener(broken)


def test_it_refuses_to_publish_a_type_that_is_not_an_event_type(org: Any) -> None:
    with pytest.raises(ValueError):
        event_publish(org=org, type="ping", data={})  # type: ignore[arg-type]
    assert not Event.objects.filter(type="ping").exists()


def test_it_stores_how_done_work_ships_and_refuses_what_cannot_work(org: Any) -> None:
    org_update(
        actor=SYSTEM, org=org, ship={"mode": "pull_request", "forge": "gitlab", "repo": "acme/app", "remote": ""}
    )
    org.refresh_from_db()
    assert org.settings["ship"] == {"mode": "pull_request", "forge": "gitlab", "repo": "acme/app"}
    with pytest.raises(InvalidInput, match="owner/name"):
        org_update(actor=SYSTEM, org=org, ship={"mode": "pull_request", "repo": ""})
    with pytest.raises(InvalidInput, match="merge, pull_request, none"):
        org_update(actor=SYSTEM, org=org, ship={"mode": "yolo"})


def test_it_saves_the_shipping_form_on_the_settings_page(client: Any, org: Any) -> None:
    client.post("/settings/", {"action": "ship", "ship_mode": "none", "ship_forge": "github"})
    org.refresh_from_db()
    assert org.settings["ship"] == {"mode": "none", "forge": "github"}
    assert 'name="ship_mode"' in client.get("/settings/").content.decode()
