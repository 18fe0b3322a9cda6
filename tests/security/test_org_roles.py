"""Issue 16 item 13: in login mode a user sees only the orgs they belong to, and a viewer cannot act."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from issues.models import Issue
from orgs.actors import Actor
from orgs.models import Membership
from orgs.services import membership_set
from tests.factories import make_issue, make_org, make_user, make_wiki_page

SYSTEM = Actor.system()


@pytest.fixture
def two_orgs(settings: Any) -> tuple[Any, Any]:
    settings.MESA_TRUSTED_LOCAL = False
    a = make_org(name="Acme", slug="acme", issue_prefix="ACME")
    b = make_org(name="Beta Corp", slug="beta", issue_prefix="BETA")
    make_issue(a, title="Acme secret plan")
    make_issue(b, title="Beta secret plan")
    return a, b


def _login(client: Client, username: str) -> None:
    # force_login: the login form itself (throttled by django-axes) is tested in test_login_throttling.py.
    client.force_login(get_user_model().objects.get(username=username))


@pytest.mark.django_db
def test_it_shows_a_member_only_their_orgs(client: Client, two_orgs: tuple[Any, Any]) -> None:
    a, b = two_orgs
    membership_set(actor=SYSTEM, org=a, user=make_user(username="alice"), role="member")
    _login(client, "alice")
    assert "Acme secret plan" in client.get("/issues/").content.decode()
    client.post("/org/switch", {"org": "beta"})  # the replay: switch into an org one is not in
    body = client.get("/issues/").content.decode()
    assert "Beta secret plan" not in body and "Acme secret plan" in body
    assert "Beta Corp" not in client.get("/").content.decode()  # not offered in the switcher
    assert client.get("/issues/BETA-1/").status_code == 404


@pytest.mark.django_db
def test_it_shows_a_user_outside_every_org_nothing(client: Client, two_orgs: tuple[Any, Any]) -> None:
    make_user(username="mallory")
    _login(client, "mallory")
    assert client.get("/issues/").status_code == 404
    response = client.post("/issues/new", {"title": "Planted"})
    assert response.status_code == 403
    assert not Issue.objects.filter(title="Planted").exists()


@pytest.mark.django_db
def test_it_lets_the_operator_see_every_org(client: Client, two_orgs: tuple[Any, Any]) -> None:
    make_user(username="root", is_superuser=True, is_staff=True)
    _login(client, "root")
    client.post("/org/switch", {"org": "beta"})
    assert "Beta secret plan" in client.get("/issues/").content.decode()


@pytest.mark.django_db
def test_it_refuses_every_write_of_a_viewer(client: Client, two_orgs: tuple[Any, Any]) -> None:
    a, _ = two_orgs
    membership_set(actor=SYSTEM, org=a, user=make_user(username="vera"), role="viewer")
    _login(client, "vera")
    assert "Acme secret plan" in client.get("/issues/").content.decode()
    response = client.post("/issues/new", {"title": "By a viewer"})
    assert response.status_code == 403 and "viewer" in response.content.decode()
    htmx = client.post(
        "/settings/", {"action": "org", "name": "Hijacked", "issue_prefix": "ACME"}, HTTP_HX_REQUEST="true"
    )
    assert htmx.status_code == 403 and "viewers can look" in htmx.content.decode()
    a.refresh_from_db()
    assert a.name == "Acme" and not Issue.objects.filter(title="By a viewer").exists()
    assert client.post("/logout/").status_code == 302  # leaving is not a write to the org


@pytest.mark.django_db
def test_it_lets_only_an_owner_manage_members(client: Client, two_orgs: tuple[Any, Any]) -> None:
    a, _ = two_orgs
    membership_set(actor=SYSTEM, org=a, user=make_user(username="olga"), role="owner")
    membership_set(actor=SYSTEM, org=a, user=make_user(username="max"), role="member")
    make_user(username="newbie")
    _login(client, "max")
    refused = client.post("/settings/", {"action": "member_set", "username": "newbie", "role": "owner"})
    assert refused.status_code == 403 and "Only an owner" in refused.content.decode()
    assert not Membership.objects.filter(user__username="newbie").exists()
    _login(client, "olga")
    assert 'value="member_set"' in client.get("/settings/").content.decode()
    client.post("/settings/", {"action": "member_set", "username": "newbie", "role": "viewer"})
    assert Membership.objects.get(user__username="newbie", org=a).role == "viewer"
    client.post("/settings/", {"action": "member_remove", "username": "max"})
    assert not Membership.objects.filter(user__username="max").exists()


@pytest.mark.django_db
def test_it_adds_a_member_from_manage_py(two_orgs: tuple[Any, Any]) -> None:
    a, _ = two_orgs
    make_user(username="carl")
    call_command("member", "acme", "carl", "--role", "viewer")
    assert Membership.objects.get(org=a, user__username="carl").role == "viewer"
    call_command("member", "acme", "carl", "--remove")
    assert not Membership.objects.filter(org=a).exists()


@pytest.mark.django_db
def test_it_hides_the_write_controls_from_a_viewer(client: Client, two_orgs: tuple[Any, Any]) -> None:
    a, _ = two_orgs
    make_wiki_page(a, title="Runbook")
    membership_set(actor=SYSTEM, org=a, user=make_user(username="vera"), role="viewer")
    membership_set(actor=SYSTEM, org=a, user=make_user(username="mo"), role="member")
    _login(client, "mo")
    assert 'action="/wiki/runbook/delete"' in client.get("/wiki/runbook/").content.decode()
    _login(client, "vera")
    page = client.get("/wiki/runbook/").content.decode()
    assert "Runbook" in page and 'action="/wiki/runbook/delete"' not in page and "/wiki/runbook/edit" not in page


@pytest.mark.django_db
def test_it_keeps_the_palette_inside_the_users_orgs(client: Client, two_orgs: tuple[Any, Any]) -> None:
    a, b = two_orgs
    membership_set(actor=SYSTEM, org=a, user=make_user(username="vera"), role="viewer")
    _login(client, "vera")
    assert "Beta secret plan" not in client.get("/palette/search?q=secret&org=beta").content.decode()
    key = Issue.objects.get(org=a).key
    moved = client.post("/palette/action", {"action": "priority", "value": "4", "issue": key})
    assert moved.status_code == 403 and Issue.objects.get(org=a).priority != 4
