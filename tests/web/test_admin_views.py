"""Admin in the browser (web/admin_views.py): keys, labels, archived issues, the profile page."""

from __future__ import annotations

from typing import Any

from agents.keys import key_lookup
from agents.models import ApiKey
from issues.models import Issue, Label
from orgs.actors import Actor
from orgs.models import Activity
from orgs.services import membership_set
from tests.factories import make_agent, make_issue, make_label, make_org, make_user

SYSTEM = Actor.system("tests")


def _login_as(client: Any, org: Any, settings: Any, role: str) -> Any:
    settings.MESA_TRUSTED_LOCAL = False
    user = make_user(username=f"u-{role}", email=f"{role}@example.test", first_name="Ada", last_name="L")
    membership_set(actor=SYSTEM, org=org, user=user, role=role)
    client.force_login(user)
    return user


def test_it_creates_a_board_key_showing_the_secret_once(client: Any, org: Any) -> None:
    response = client.post("/settings/keys/new", {"name": "CI", "kind": "board"})
    body = response.content.decode()
    key = ApiKey.objects.get(org=org, name="CI")
    secret = body.split('id="key-secret" value="')[1].split('"')[0]
    assert key_lookup(secret) == key and response["Cache-Control"] == "no-store"
    assert Activity.objects.filter(org=org, object_type="apikey", actor_label="local").exists()
    settings_page = client.get("/settings/").content.decode()
    assert f"{key.prefix}…" in settings_page and secret not in settings_page


def test_it_creates_an_agent_key_and_refuses_another_orgs_agent(client: Any, org: Any) -> None:
    make_agent(org, slug="worker")
    make_agent(make_org(slug="other", issue_prefix="OTH"), slug="spy")
    client.post("/settings/keys/new", {"name": "w", "kind": "agent", "agent": "worker"})
    assert ApiKey.objects.filter(name="w").values_list("agent__slug", flat=True).get() == "worker"
    response = client.post("/settings/keys/new", {"name": "s", "kind": "agent", "agent": "spy"})
    assert response.status_code == 302 and not ApiKey.objects.filter(name="s").exists()


def test_it_lets_only_owners_create_keys(client: Any, org: Any, settings: Any) -> None:
    _login_as(client, org, settings, "member")
    assert client.post("/settings/keys/new", {"name": "m", "kind": "board"}).status_code == 302
    _login_as(client, org, settings, "viewer")
    assert client.post("/settings/keys/new", {"name": "v", "kind": "board"}).status_code == 403
    assert not ApiKey.objects.exists()


def test_it_manages_labels_with_inline_errors(client: Any, org: Any) -> None:
    client.post("/settings/labels/", {"action": "create", "name": "bug", "color": "#e5484d"})
    bug = Label.objects.get(org=org, name="bug")
    make_label(org, name="ops")
    client.post("/settings/labels/", {"action": "update", "label": bug.pk, "name": "defect", "color": "#00ff00"})
    assert Label.objects.filter(pk=bug.pk).values_list("name", "color").get() == ("defect", "#00ff00")
    clash = client.post("/settings/labels/", {"action": "update", "label": bug.pk, "name": "ops", "color": "#00ff00"})
    assert clash.status_code == 409 and "already exists" in clash.content.decode()
    client.post("/settings/labels/", {"action": "archive", "label": bug.pk})
    page = client.get("/settings/labels/").content.decode()
    assert 'data-archived-label="defect"' in page
    issue = make_issue(org)
    assert "defect" not in client.get(f"/issues/{issue.key}/").content.decode()  # not offered
    client.post("/settings/labels/", {"action": "restore", "label": bug.pk})
    assert Label.objects.get(pk=bug.pk).archived_at is None


def test_it_refuses_another_orgs_label_and_a_viewer(client: Any, org: Any, settings: Any) -> None:
    theirs = make_label(make_org(slug="other", issue_prefix="OTH"), name="theirs")
    response = client.post("/settings/labels/", {"action": "archive", "label": theirs.pk})
    assert response.status_code == 404 and Label.objects.get(pk=theirs.pk).archived_at is None
    mine = make_label(org, name="mine")
    _login_as(client, org, settings, "viewer")
    assert client.post("/settings/labels/", {"action": "archive", "label": mine.pk}).status_code == 403
    assert Label.objects.get(pk=mine.pk).archived_at is None


def test_it_archives_an_issue_from_its_page_and_restores_it_from_the_archived_view(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Old idea")
    assert 'data-testid="issue-archive"' in client.get(f"/issues/{issue.key}/").content.decode()
    client.post(f"/issues/{issue.key}/archive")
    assert Issue.objects.get(pk=issue.pk).archived_at is not None
    assert "Old idea" not in client.get("/issues/").content.decode()
    assert "Old idea" not in client.get("/issues/?view=list").content.decode()
    assert 'data-testid="issue-archived"' in client.get(f"/issues/{issue.key}/").content.decode()
    archived = client.get("/issues/archived/").content.decode()
    assert f'data-key="{issue.key}"' in archived
    client.post(f"/issues/{issue.key}/restore")
    assert Issue.objects.get(pk=issue.pk).archived_at is None
    assert "Old idea" in client.get("/issues/").content.decode()


def test_it_refuses_a_viewer_archiving_an_issue(client: Any, org: Any, settings: Any) -> None:
    issue = make_issue(org)
    _login_as(client, org, settings, "viewer")
    assert client.post(f"/issues/{issue.key}/archive").status_code == 403
    assert Issue.objects.get(pk=issue.pk).archived_at is None
    body = client.get(f"/issues/{issue.key}/").content.decode()
    assert 'data-testid="issue-archive"' not in body


def test_it_hides_another_orgs_issue(client: Any, org: Any, settings: Any) -> None:
    other = make_org(slug="other", issue_prefix="OTH")
    theirs = make_issue(other)
    _login_as(client, org, settings, "owner")
    assert client.post(f"/issues/{theirs.key}/archive").status_code == 404
    assert Issue.objects.get(pk=theirs.pk).archived_at is None


def test_it_explains_the_profile_in_local_mode(client: Any, org: Any) -> None:
    body = client.get("/profile/").content.decode()
    assert 'data-testid="profile-local"' in body and "no user account" in body
    assert client.post("/profile/", {"old_password": "x"}).status_code == 302


def test_it_shows_the_profile_and_changes_the_password_of_a_viewer(client: Any, org: Any, settings: Any) -> None:
    user = _login_as(client, org, settings, "viewer")
    body = client.get("/profile/").content.decode()
    assert "viewer@example.test" in body and "Ada L" in body and 'data-testid="role-acme">viewer' in body
    wrong = client.post("/profile/", {"old_password": "nope", "new_password1": "x", "new_password2": "x"})
    assert wrong.status_code == 400
    new = "a-much-better-pass-42"
    changed = client.post(
        "/profile/", {"old_password": "pw-not-secret-123", "new_password1": new, "new_password2": new}
    )
    assert changed.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    assert client.get("/profile/").status_code == 200  # still signed in
