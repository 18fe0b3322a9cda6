"""The New org page (web/org_views.py): the bootstrap service, new-only, from the browser."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from agents.models import Agent
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden
from orgs.models import Org
from orgs.services import membership_set
from tests.factories import make_org, make_user
from web.bootstrap import org_bootstrap

SYSTEM = Actor.system("tests")


def _form(**kw: str) -> dict[str, str]:
    data = {
        "name": "Beta Corp",
        "issue_prefix": "BETA",
        "template": "dev-team",
        "repo_mode": "create",
        "runner": "noop",
    }
    data.update(kw)
    return data


def test_it_shows_templates_with_their_agents_and_links_from_sidebar_and_settings(client: Any, org: Any) -> None:
    body = client.get("/orgs/new/").content.decode()
    assert 'value="startup"' in body and 'value="blank"' in body
    assert "Chief Executive" in body or "CEO" in body  # the startup template's agents are named
    assert 'href="/orgs/new/"' in client.get("/").content.decode()
    assert 'data-testid="settings-new-org"' in client.get("/settings/").content.decode()


def test_it_creates_the_org_switches_to_it_and_lands_on_its_dashboard(client: Any, org: Any, tmp_path: Path) -> None:
    response = client.post("/orgs/new/", _form())
    assert response.status_code == 302 and response["Location"] == "/"
    beta = Org.objects.get(slug="beta-corp")
    assert beta.issue_prefix == "BETA" and Agent.objects.filter(org=beta).count() > 0
    # The repository was created under MESA_REPOS_DIR and every agent works in it.
    repo = tmp_path / "repos" / "beta-corp"
    assert (repo / ".git").is_dir()
    assert set(Agent.objects.filter(org=beta).values_list("working_dir", flat=True)) == {str(repo)}
    assert 'data-org="beta-corp"' in client.get("/").content.decode()


def test_it_uses_an_existing_repository(client: Any, org: Any, tmp_path: Path) -> None:
    repo = tmp_path / "mine"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    response = client.post("/orgs/new/", _form(repo_mode="existing", repo=str(repo), template="blank"))
    assert response.status_code == 302
    assert Org.objects.filter(slug="beta-corp").exists()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": "Acme"}, "slug", "already exists"),
        ({"issue_prefix": "acme"}, "prefix", "already uses the prefix ACME"),
        ({"issue_prefix": "9X"}, "prefix", "must be 1-10 letters"),
        ({"repo_mode": "existing", "repo": "/definitely/not/here"}, "repo", "is not a git repository"),
    ],
)
def test_it_shows_errors_inline_and_keeps_the_values(
    client: Any, org: Any, fields: dict[str, str], field: str, words: str
) -> None:
    before = Org.objects.count()
    response = client.post("/orgs/new/", _form(**fields))
    body = response.content.decode()
    assert response.status_code in {400, 409}
    assert f'data-testid="{field}-error"' in body and words in body
    assert f'value="{_form(**fields)["name"]}"' in body and 'value="dev-team" checked' in body
    assert Org.objects.count() == before


def test_it_refuses_a_non_repository_directory(client: Any, org: Any, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    body = client.post("/orgs/new/", _form(repo_mode="existing", repo=str(plain))).content.decode()
    assert "is not a git repository" in body and str(plain) in body
    assert not Org.objects.filter(slug="beta-corp").exists()


def test_it_lets_the_operator_create_but_not_a_member_or_viewer_of_another_org(
    client: Any, org: Any, settings: Any
) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    member, viewer = make_user(username="mel"), make_user(username="vic")
    membership_set(actor=SYSTEM, org=org, user=member, role="owner")
    membership_set(actor=SYSTEM, org=org, user=viewer, role="viewer")
    for user in (member, viewer):
        client.force_login(user)
        assert client.get("/orgs/new/").status_code == 403
        assert client.post("/orgs/new/", _form()).status_code == 403
        assert 'href="/orgs/new/"' not in client.get("/").content.decode()
    assert not Org.objects.filter(slug="beta-corp").exists()
    client.force_login(make_user(username="root", is_superuser=True))
    assert client.post("/orgs/new/", _form()).status_code == 302
    assert Org.objects.filter(slug="beta-corp").exists()


def test_the_service_refuses_a_non_operator_and_an_existing_org(db: None) -> None:
    make_org(name="Acme", slug="acme", issue_prefix="ACME")
    with pytest.raises(Forbidden):
        org_bootstrap(
            actor=Actor.human(label="someone"),
            template="blank",
            org_slug="new",
            org_name="New",
            prefix="NEW",
            runner="noop",
            new_only=True,
        )
    with pytest.raises(Conflict) as taken:
        org_bootstrap(
            actor=SYSTEM, template="blank", org_slug="acme", org_name="Acme", prefix="ZZZ", runner="noop", new_only=True
        )
    assert taken.value.extra["field"] == "slug"
    # Without new_only the command-line bootstrap still completes an existing org.
    assert not org_bootstrap(actor=SYSTEM, template="blank", org_slug="acme", prefix="ACME", runner="noop").org_created
