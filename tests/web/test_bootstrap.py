"""Org templates and the idempotent bootstrap (service and management command)."""

from __future__ import annotations

import io
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from agents.models import Agent, AgentVersion
from archetypes.loader import archetype_exists
from issues.models import Label
from orgs.actors import Actor
from orgs.errors import InvalidInput, NotFound
from orgs.models import Activity, Org
from web.bootstrap import org_bootstrap
from web.org_templates import BUILTIN_DIR, template_get, template_list

SYSTEM = Actor.system("bootstrap")
REQUIRED = {"startup", "dev-team", "saas", "agency", "enterprise", "media", "smm", "blank"}


@pytest.fixture(autouse=True)
def _repos_dir(settings: Any, tmp_path: Path) -> None:
    """The command creates the org's repository under MESA_REPOS_DIR: in the test's tmp dir."""
    settings.MESA_REPOS_DIR = str(tmp_path / "repos")


def _counts() -> dict[str, int]:
    return {
        "orgs": Org.objects.count(),
        "agents": Agent.objects.count(),
        "versions": AgentVersion.objects.count(),
        "labels": Label.objects.count(),
        "activities": Activity.objects.count(),
    }


def test_it_ships_every_required_template() -> None:
    assert {t.slug for t in template_list()} >= REQUIRED
    assert len(template_get("startup").agents) == 6
    assert len(template_get("blank").agents) == 0
    assert any(a["archetype"] == "auditor" for a in template_get("enterprise").agents)


@pytest.mark.parametrize("slug", [t.slug for t in template_list()])
def test_it_bootstraps_every_template_idempotently(db: None, slug: str) -> None:
    first = org_bootstrap(actor=SYSTEM, template=slug, org_slug="acme", prefix="ACME", runner="noop")
    tpl = template_get(slug)
    assert first.org_created
    assert sorted(first.agents_created) == sorted(a["slug"] for a in tpl.agents)
    after_first = _counts()
    assert after_first["agents"] == len(tpl.agents)
    assert after_first["labels"] == len(tpl.labels)

    second = org_bootstrap(actor=SYSTEM, template=slug, org_slug="acme", prefix="ACME", runner="noop")
    assert not second.org_created
    assert second.agents_created == [] and second.labels_created == []
    assert _counts() == after_first

    # Every reporting line and reviewer in the template is real and inside the org.
    agents = {a.slug: a for a in Agent.objects.filter(org=first.org).select_related("reports_to", "review_agent")}
    for spec in tpl.agents:
        agent = agents[spec["slug"]]
        assert archetype_exists(spec["archetype"]), f"{slug}: {spec['slug']} uses unknown archetype"
        assert agent.archetype == spec["archetype"]
        assert (agent.reports_to.slug if agent.reports_to else "") == (spec.get("reports_to") or "")
        assert (agent.review_agent.slug if agent.review_agent else "") == (spec.get("review_agent") or "")
    roots = [a for a in agents.values() if a.reports_to_id is None]
    if agents:
        assert len(roots) >= 1


def test_it_builds_the_startup_org_with_its_reporting_lines(db: None) -> None:
    data = tomllib.loads((BUILTIN_DIR / "startup.toml").read_text())
    result = org_bootstrap(actor=SYSTEM, template="startup", org_slug="mesa")
    org = result.org
    assert (org.slug, org.issue_prefix, org.is_default) == ("mesa", "MESA", True)
    agents = {a.slug: a for a in Agent.objects.filter(org=org)}
    assert len(agents) == 6
    expected_lines = {a["slug"]: (a["reports_to"] or None, a["review_agent"] or None) for a in data["agents"]}
    actual_lines = {
        slug: (
            a.reports_to.slug if a.reports_to else None,
            a.review_agent.slug if a.review_agent else None,
        )
        for slug, a in agents.items()
    }
    assert actual_lines == expected_lines
    assert expected_lines["founding-engineer"] == ("ceo", "qa")
    ceo = agents["ceo"]
    assert ceo.heartbeat_enabled and ceo.heartbeat_interval_s == 3600
    assert ceo.archetype == "ceo" and ceo.reports_to_id is None
    assert not any(a.heartbeat_enabled for s, a in agents.items() if s != "ceo")
    assert {a.runner for a in agents.values()} == {"claude_code"}
    assert str(agents["founding-engineer"].daily_cost_limit_usd) == "20.00"


def test_it_applies_the_runner_and_model(db: None) -> None:
    org_bootstrap(actor=SYSTEM, template="dev-team", org_slug="x", runner="codex", model="o4")
    runners = set(Agent.objects.values_list("runner", flat=True))
    assert runners == {"codex"}
    assert set(Agent.objects.values_list("model", flat=True)) == {"o4"}


def test_it_refuses_an_unknown_runner_template_or_prefix(db: None) -> None:
    with pytest.raises(InvalidInput):
        org_bootstrap(actor=SYSTEM, template="startup", runner="skynet")
    with pytest.raises(NotFound) as exc:
        org_bootstrap(actor=SYSTEM, template="no-such-template")
    assert "startup" in exc.value.message  # lists the real templates
    with pytest.raises(InvalidInput):
        org_bootstrap(actor=SYSTEM, template="startup", prefix="1bad")
    assert not Org.objects.exists()


def test_it_keeps_agents_a_human_changed(db: None) -> None:
    from agents.services import agent_update

    result = org_bootstrap(actor=SYSTEM, template="startup", org_slug="mesa")
    qa = Agent.objects.get(org=result.org, slug="qa")
    agent_update(actor=Actor.human(label="board"), agent=qa, max_turns=3, reports_to=None)
    Agent.objects.filter(org=result.org, slug="designer").delete()
    again = org_bootstrap(actor=SYSTEM, template="startup", org_slug="mesa")
    assert again.agents_created == ["designer"]
    qa.refresh_from_db()
    assert qa.max_turns == 3 and qa.reports_to_id is None
    designer = Agent.objects.get(org=result.org, slug="designer")
    assert designer.reports_to is not None and designer.reports_to.slug == "product-lead"


def _write_template(directory: Path, name: str, body: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.toml").write_text(body)


EXTRA = """
name = "Tiny"
description = "One lonely CEO."

[[agents]]
slug = "boss"
name = "Boss"
archetype = "ceo"
heartbeat_enabled = true
"""


def test_it_lets_a_templates_dir_override_and_extend(db: None, settings: Any, tmp_path: Path) -> None:
    extra = tmp_path / "templates"
    _write_template(extra, "startup", EXTRA)
    _write_template(extra, "tiny", EXTRA)
    settings.MESA_TEMPLATES_DIR = str(extra)
    slugs = [t.slug for t in template_list()]
    assert slugs.count("startup") == 1 and "tiny" in slugs and "saas" in slugs
    assert template_get("startup").path == extra / "startup.toml"
    assert next(t for t in template_list() if t.slug == "startup").name == "Tiny"
    result = org_bootstrap(actor=SYSTEM, template="startup", org_slug="mesa")
    assert result.agents_created == ["boss"]


def test_it_reports_a_broken_template_file(db: None, settings: Any, tmp_path: Path) -> None:
    _write_template(tmp_path, "broken", "name = [unclosed")
    settings.MESA_TEMPLATES_DIR = str(tmp_path)
    with pytest.raises(InvalidInput) as exc:
        template_get("broken")
    assert "broken.toml" in exc.value.message


def test_it_refuses_a_template_naming_an_unknown_manager(db: None, settings: Any, tmp_path: Path) -> None:
    _write_template(tmp_path, "bad", EXTRA + 'reports_to = "ghost"\n')
    settings.MESA_TEMPLATES_DIR = str(tmp_path)
    with pytest.raises(InvalidInput) as exc:
        org_bootstrap(actor=SYSTEM, template="bad", org_slug="x")
    assert "ghost" in exc.value.message
    assert not Org.objects.exists()  # the whole bootstrap rolled back


def test_it_runs_the_bootstrap_command_twice(db: None) -> None:
    out = io.StringIO()
    call_command(
        "bootstrap", "--template", "startup", "--org", "acme", "--prefix", "ACME", "--runner", "noop", stdout=out
    )
    assert "Created org acme (ACME)" in out.getvalue() and "6 agent(s) added" in out.getvalue()
    counts = _counts()
    out = io.StringIO()
    call_command("bootstrap", "--template", "startup", "--org", "acme", "--prefix", "ACME", stdout=out)
    assert "Updated org acme" in out.getvalue() and "0 agent(s) added" in out.getvalue()
    assert _counts() == counts
    assert set(Agent.objects.values_list("runner", flat=True)) == {"noop"}


def test_it_lists_templates_with_the_command(db: None) -> None:
    out = io.StringIO()
    call_command("bootstrap", "--list", stdout=out)
    lines = out.getvalue().splitlines()
    assert {line.split()[0] for line in lines} == {t.slug for t in template_list()}
    assert any(line.startswith("startup") and " 6 agents" in line for line in lines)
    assert not Org.objects.exists()


def test_it_fails_the_command_clearly_for_a_bad_template(db: None) -> None:
    with pytest.raises(CommandError) as exc:
        call_command("bootstrap", "--template", "nope", stdout=io.StringIO())
    assert "nope" in str(exc.value) and "startup" in str(exc.value)
    with pytest.raises(CommandError):
        call_command("bootstrap", "--runner", "skynet", stdout=io.StringIO())
    assert not Org.objects.exists()


def test_it_skips_the_command_with_if_empty_when_an_org_exists(db: None) -> None:
    call_command("bootstrap", "--template", "blank", "--org", "first", stdout=io.StringIO())
    out = io.StringIO()
    call_command("bootstrap", "--if-empty", "--template", "startup", "--org", "second", stdout=out)
    assert "nothing to bootstrap" in out.getvalue()
    assert list(Org.objects.values_list("slug", flat=True)) == ["first"]


def test_it_stays_idempotent_for_an_org_given_by_name(db: None) -> None:
    first = org_bootstrap(actor=SYSTEM, template="blank", org_slug="My Team")
    assert first.org.slug == "my-team" and first.org.name == "My Team"
    second = org_bootstrap(actor=SYSTEM, template="blank", org_slug="My Team")
    assert not second.org_created and second.org == first.org
    assert Org.objects.count() == 1


def test_it_refuses_template_names_that_are_paths(db: None, settings: Any, tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    _write_template(tmp_path, "secret", EXTRA)
    inner.mkdir()
    settings.MESA_TEMPLATES_DIR = str(inner)
    for name in ("../secret", "../../web/org_templates/startup", "/etc/x", ""):
        with pytest.raises(NotFound):
            template_get(name)


ENGINEERS = {"backend", "frontend", "fullstack", "devops", "architect"}


@pytest.mark.parametrize("slug", [t.slug for t in template_list() if t.agents])
def test_it_gives_every_team_a_ceo_at_the_top_and_qa_reviewing_engineers(slug: str) -> None:
    agents = {a["slug"]: a for a in template_get(slug).agents}
    roots = [a for a in agents.values() if not a.get("reports_to")]
    assert [(a["archetype"], bool(a.get("heartbeat_enabled"))) for a in roots] == [("ceo", True)]
    assert not any(a.get("heartbeat_enabled") for a in agents.values() if a not in roots)
    qa = {s for s, a in agents.items() if a["archetype"] == "qa"}
    for spec in agents.values():
        if spec["archetype"] in ENGINEERS and qa:
            assert spec.get("review_agent") in qa, f"{slug}: {spec['slug']} is not reviewed by QA"
        if spec.get("review_agent"):
            assert spec["review_agent"] != spec["slug"]


def test_it_refuses_a_template_agent_without_a_slug(db: None, settings: Any, tmp_path: Path) -> None:
    _write_template(tmp_path, "noslug", '[[agents]]\nname = "Nameless"\narchetype = "qa"\n')
    settings.MESA_TEMPLATES_DIR = str(tmp_path)
    with pytest.raises(InvalidInput) as exc:
        template_get("noslug")
    assert "noslug.toml" in exc.value.message and "slug" in exc.value.message
    with pytest.raises(CommandError):
        call_command("bootstrap", "--template", "noslug", stdout=io.StringIO())
    assert not Org.objects.exists()


def _git(path: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_it_creates_a_git_repository_for_the_org_and_points_every_agent_at_it(db: None, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("bootstrap", "--template", "startup", "--org", "acme", "--prefix", "ACME", stdout=out)

    repo = tmp_path / "repos" / "acme"
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main" and _git(repo, "log", "--format=%s")
    assert set(Agent.objects.values_list("working_dir", flat=True)) == {str(repo)}
    assert f"git repository {repo}" in out.getvalue()


def test_it_uses_the_repository_it_is_pointed_at_even_for_agents_that_existed(db: None, tmp_path: Path) -> None:
    call_command("bootstrap", "--template", "startup", "--org", "acme", "--in-place", stdout=io.StringIO())
    assert set(Agent.objects.values_list("working_dir", flat=True)) == {""}  # in place only when asked
    mine = tmp_path / "mine"
    mine.mkdir()
    _git(mine, "init", "-q", "-b", "trunk")
    (mine / "app.py").write_text("print(1)\n")
    _git(mine, "add", "app.py")
    _git(mine, "-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q", "-m", "mine")

    call_command("bootstrap", "--template", "startup", "--org", "acme", "--repo", str(mine), stdout=io.StringIO())

    assert set(Agent.objects.values_list("working_dir", flat=True)) == {str(mine)}
    assert _git(mine, "log", "--format=%s") == "mine"  # used as it is


def test_it_refuses_to_turn_a_directory_of_files_into_a_repository(db: None, tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "notes.txt").write_text("mine\n")
    with pytest.raises(CommandError, match="not a git repository"):
        call_command("bootstrap", "--template", "startup", "--repo", str(files), stdout=io.StringIO())
    assert not (files / ".git").exists() and not Org.objects.exists()
