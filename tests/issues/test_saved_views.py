"""Saved views (issues.saved_views, the selectors, the board's toolbar and the sidebar): per person, per org."""

from __future__ import annotations

from typing import Any

import pytest

from issues.models import SavedView
from issues.saved_views import clean_view_query, saved_view_delete, saved_view_save
from issues.selectors import saved_view_get_for, saved_views_for
from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput, NotFound
from orgs.services import membership_set
from tests.factories import make_agent, make_org, make_user

LOCAL = Actor.human(label="local", operator=True)


def test_it_keeps_only_the_boards_own_keys_of_the_query() -> None:
    query = "status=todo&status=in_progress&evil=1&q=+login+&view=list&group=priority&order=updated&limit=&csrf=x"
    assert clean_view_query(query) == "q=login&status=todo&status=in_progress&group=priority&order=updated&view=list"


def test_it_saves_replaces_lists_and_deletes_a_local_view(org: Any) -> None:
    view = saved_view_save(actor=LOCAL, org=org, name="  My   bugs ", query="?type=bug&view=list")
    assert view.name == "My bugs" and view.owner == "local" and view.user is None and view.query == "type=bug&view=list"
    again = saved_view_save(actor=LOCAL, org=org, name="My bugs", query="type=bug&priority=4")
    assert again.pk == view.pk and again.query == "priority=4&type=bug"
    assert [v.name for v in saved_views_for(actor=LOCAL, org=org)] == ["My bugs"]
    saved_view_delete(actor=LOCAL, view=saved_view_get_for(actor=LOCAL, org=org, pk=view.pk))
    assert not SavedView.objects.exists()


def test_it_refuses_a_view_without_a_name_and_for_agents(org: Any) -> None:
    with pytest.raises(InvalidInput):
        saved_view_save(actor=LOCAL, org=org, name="  ", query="")
    agent = Actor.for_agent(make_agent(org, slug="builder"))
    with pytest.raises(Forbidden):
        saved_view_save(actor=agent, org=org, name="Mine", query="")
    assert saved_views_for(actor=agent, org=org) == []


def test_it_never_shows_a_view_to_another_user_or_org(org: Any) -> None:
    other_org = make_org(name="Other", slug="other", issue_prefix="OTH")
    alice, bob = make_user(username="alice"), make_user(username="bob")
    as_alice, as_bob = Actor.human(user=alice), Actor.human(user=bob)
    mine = saved_view_save(actor=as_alice, org=org, name="Mine", query="status=todo")
    saved_view_save(actor=as_alice, org=other_org, name="Elsewhere", query="status=done")
    assert mine.user == alice and mine.owner == f"user:{alice.pk}"
    assert [v.name for v in saved_views_for(actor=as_alice, org=org)] == ["Mine"]
    assert saved_views_for(actor=as_bob, org=org) == []
    assert saved_views_for(actor=LOCAL, org=org) == []
    for actor, where in ((as_bob, org), (as_alice, other_org), (LOCAL, org)):
        with pytest.raises(NotFound):
            saved_view_get_for(actor=actor, org=where, pk=mine.pk)
    with pytest.raises(Forbidden):
        saved_view_delete(actor=as_bob, view=mine)
    assert SavedView.objects.filter(pk=mine.pk).exists()


def test_it_saves_and_lists_a_view_from_the_board(client: Any, org: Any) -> None:
    response = client.post("/issues/views/save", {"name": "Todo list", "query": "status=todo&x=1", "view": "list"})
    assert response.status_code == 302 and response["Location"] == "/issues/?status=todo&view=list"
    view = SavedView.objects.get()
    body = client.get("/issues/").content.decode()
    assert 'data-saved-view="Todo list"' in body and 'data-saved-view-nav="Todo list"' in body
    assert 'href="/issues/?status=todo&amp;view=list"' in body
    # The sidebar lists it on every page.
    assert 'data-saved-view-nav="Todo list"' in client.get("/agents/").content.decode()
    client.post(f"/issues/views/{view.pk}/delete")
    assert not SavedView.objects.exists()


def test_it_answers_404_for_another_users_view(client: Any, org: Any, settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    alice, bob = make_user(username="alice"), make_user(username="bob")
    for user in (alice, bob):
        membership_set(actor=Actor.system(), org=org, user=user, role="member")
    theirs = saved_view_save(actor=Actor.human(user=alice), org=org, name="Alice's", query="status=todo")
    client.force_login(bob)
    assert "Alice&#x27;s" not in client.get("/issues/").content.decode()
    assert client.post(f"/issues/views/{theirs.pk}/delete").status_code == 404
    assert SavedView.objects.filter(pk=theirs.pk).exists()
    client.post("/issues/views/save", {"name": "Bob's", "query": "priority=4"})
    assert SavedView.objects.get(name="Bob's").user == bob
