from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agents.models import Agent
from agents.services import agent_update
from archetypes.loader import org_override_dir
from blocks.models import WorkBlock
from chat.conversations import chat_post, chat_reply, conversation_open
from issues.archive import issue_archive, label_archive
from issues.models import Comment, Issue, IssueRelation, Label
from issues.services import do_issue_transition
from learning.models import BoardPolicy, Skill
from learning.services import policy_create, skill_propose
from orgs.actors import Actor
from orgs.models import Activity, Org
from runners.run_env import build_env
from tests.factories import (
    SYSTEM,
    make_agent,
    make_apex_block,
    make_ceo,
    make_comment,
    make_issue,
    make_label,
    make_org,
    make_run,
    make_wiki_page,
    make_work_block,
)
from transfer.services import bundle_read, org_export, org_import
from wiki.models import WikiPage, WikiRevision
from wiki.services import wiki_page_update

SECRET = "sk-live-very-secret-value-123"


def _rich_org() -> Org:
    org = make_org(name="Source", slug="source", issue_prefix="SRC")
    ceo = make_ceo(org, env={"OPENAI_API_KEY": SECRET})
    dev = make_agent(org, slug="dev", reports_to=ceo, model="m-1", daily_cost_limit_usd="2.50")
    agent_update(actor=SYSTEM, agent=ceo, review_agent=dev)
    bug = make_label(org, name="bug", color="#e5484d")
    make_label(org, name="ui")
    goal = make_apex_block(org, title="Grow", goal="More users")
    block = make_work_block(org, title="Sprint 1", goal="Ship it", apex_block=goal)
    parent = make_issue(org, title="Epic", type="epic", work_block=block)
    child = make_issue(
        org,
        title="Fix the login",
        description="# Login\n\nIt fails with 'quotes' and \"double\" and a tab\there.\n",
        acceptance_criteria="- [ ] logs in",
        labels=["bug"],
        assignee=dev,
        parent=parent,
    )
    assert bug in child.labels.all()
    do_issue_transition(actor=SYSTEM, issue=child, to="in_progress")
    make_comment(child, actor=Actor.for_agent(dev), body="On it.\nSecond line.")
    make_comment(child, body="Same text")
    make_comment(child, body="Same text\nStages: [Plan], [Do]\nStage 1: Plan - Complete")
    IssueRelation.objects.create(source=child, target=parent, kind="relates_to")
    shelf = make_label(org, name="shelf")
    issue_archive(actor=Actor.human(label="alice"), issue=make_issue(org, title="Shelved", labels=["shelf"]))
    label_archive(actor=Actor.human(label="alice"), label=shelf)
    page = make_wiki_page(org, title="Runbook", content="v1")
    wiki_page_update(actor=Actor.for_agent(dev), page=page, content="v2 ''' with quotes'")
    talk = conversation_open(actor=Actor.human(label="alice"), agent=ceo, issue=child)
    chat_post(actor=Actor.human(label="alice"), conversation=talk, body="How is it going?")
    chat_reply(conversation=talk, body="Fine.", run_id=None)
    board = Actor.human(label="alice")
    skill_propose(actor=board, org=org, title="Run the tests", body="make test\n", agent=dev)  # active at once
    skill_propose(actor=Actor.for_agent(dev), org=org, title="Release checklist", body="1. tag", archetype="devops")
    policy_create(actor=board, org=org, text="Never touch billing without approval")
    policy_create(actor=board, org=org, text="Old rule", active=False)
    override = org_override_dir(org)
    override.mkdir(parents=True)
    (override / "backend.md").write_text("---\ntitle: Backend\n---\nOur own rules.\n")
    return org


def _export(slug: str, directory: Path) -> dict[str, str]:
    call_command("org", "export", "--org", slug, str(directory))
    return bundle_read(directory)


@pytest.mark.django_db
def test_it_exports_imports_and_exports_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    org = _rich_org()
    first = _export("source", tmp_path / "one")
    assert {"org.toml", "agents.toml", "labels.toml", "blocks.toml", "wiki/pages.toml"} <= set(first)
    assert "archetypes/backend.md" in first and "issues/SRC-2.comments.jsonl" in first
    assert first["chat/ceo--SRC-2.jsonl"].count("\n") == 2
    assert first["issues/SRC-2.md"].startswith("# Login")
    for text in first.values():
        assert SECRET not in text
    agents = tomllib.loads(first["agents.toml"])["agent"]
    assert [a["slug"] for a in agents] == ["ceo", "dev"]
    assert agents[0]["env_names"] == ["OPENAI_API_KEY"] and agents[1]["reports_to"] == "ceo"

    # Into an empty database: the source org is gone (rows and override files) before the import.
    for path in org_override_dir(org).iterdir():
        path.unlink()
    org.delete()
    assert not Issue.objects.exists() and not Agent.objects.exists()
    call_command("org", "import", str(tmp_path / "one"))
    second = _export("source", tmp_path / "two")
    assert second == first

    imported = Org.objects.get(slug="source")
    ceo = Agent.objects.get(org=imported, slug="ceo")
    assert ceo.env == {"OPENAI_API_KEY": ""}  # the name, not the secret
    # A name still to be filled in does not blank the host's value in a run.
    monkeypatch.setenv("OPENAI_API_KEY", "host-value")
    env = build_env(agent=ceo, run=make_run(ceo), issue=None, api_key="k", workdir=tmp_path)
    assert env["OPENAI_API_KEY"] == "host-value"
    shelved = Issue.objects.get(org=imported, key="SRC-3")
    assert shelved.archived_at is not None and shelved.archived_at.isoformat() in first["issues/SRC-3.toml"]
    assert Label.objects.get(org=imported, name="shelf").archived_at is not None
    assert Label.objects.get(org=imported, name="ui").archived_at is None
    child = Issue.objects.get(org=imported, key="SRC-2")
    assert child.status == "in_progress" and child.parent is not None and child.assignee is not None
    assert child.comments.count() == 4  # the stage answer included
    assert list(child.stages.values_list("title", "done")) == [("Plan", True), ("Do", False)]
    assert WikiRevision.objects.filter(page__org=imported).count() == 2
    skills = {k.slug: (k.status, k.agent.slug if k.agent else "", k.body) for k in Skill.objects.filter(org=imported)}
    assert skills == {"run-the-tests": ("active", "dev", "make test"), "release-checklist": ("proposed", "", "1. tag")}
    assert set(BoardPolicy.objects.filter(org=imported).values_list("text", "active")) == {
        ("Never touch billing without approval", True),
        ("Old rule", False),
    }


@pytest.mark.django_db
def test_it_imports_under_another_slug_and_twice_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _rich_org()
    first = _export("source", tmp_path / "one")
    call_command("org", "import", str(tmp_path / "one"), "--as", "copy")
    out = capsys.readouterr().out
    assert "create org copy" in out and "Fill in: agent ceo: env OPENAI_API_KEY" in out
    copy = Org.objects.get(slug="copy")
    counts = (
        Issue.objects.filter(org=copy).count(),
        Comment.objects.filter(issue__org=copy).count(),
        WikiRevision.objects.filter(page__org=copy).count(),
        WorkBlock.objects.filter(org=copy).count(),
        Agent.objects.get(org=copy, slug="ceo").config_version,
    )

    call_command("org", "import", str(tmp_path / "one"), "--as", "copy")
    out = capsys.readouterr().out
    assert "Changed 0 thing(s) in copy." in out
    assert counts == (
        Issue.objects.filter(org=copy).count(),
        Comment.objects.filter(issue__org=copy).count(),
        WikiRevision.objects.filter(page__org=copy).count(),
        WorkBlock.objects.filter(org=copy).count(),
        Agent.objects.get(org=copy, slug="ceo").config_version,
    )
    assert counts[:4] == (3, 4, 2, 1)
    again = _export("copy", tmp_path / "two")
    assert {k: v for k, v in again.items() if k != "org.toml"} == {k: v for k, v in first.items() if k != "org.toml"}
    # New issues continue after the imported numbers.
    assert make_issue(copy, title="After import").key == "SRC-4"


@pytest.mark.django_db
def test_it_writes_nothing_on_a_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _rich_org()
    _export("source", tmp_path / "one")
    before = (Org.objects.count(), Agent.objects.count(), Issue.objects.count(), Activity.objects.count())
    call_command("org", "import", str(tmp_path / "one"), "--as", "dry", "--dry-run")
    out = capsys.readouterr().out
    assert "create issue SRC-2" in out and "create archetype override backend" in out
    assert "Dry run: nothing was written." in out
    assert before == (Org.objects.count(), Agent.objects.count(), Issue.objects.count(), Activity.objects.count())
    assert not Org.objects.filter(slug="dry").exists()
    assert not org_override_dir(Org(slug="dry")).exists()


@pytest.mark.django_db
def test_it_updates_what_changed_and_reports_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    org = _rich_org()
    _export("source", tmp_path / "one")
    issue = Issue.objects.get(org=org, key="SRC-2")
    Issue.objects.filter(pk=issue.pk).update(title="Changed here")
    WikiPage.objects.filter(org=org).update(title="Renamed")
    call_command("org", "import", str(tmp_path / "one"))
    out = capsys.readouterr().out
    assert "update issue SRC-2: title" in out and "update wiki page runbook: title" in out
    assert Issue.objects.get(pk=issue.pk).title == "Fix the login"


@pytest.mark.django_db
def test_it_refuses_a_directory_that_is_not_an_export(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not an org export"):
        call_command("org", "import", str(tmp_path))
    with pytest.raises(CommandError, match="No org"):
        call_command("org", "export", "--org", "nope", str(tmp_path / "x"))


@pytest.mark.django_db
def test_it_keeps_each_org_to_its_own_rows(tmp_path: Path) -> None:
    _rich_org()
    other = make_org(name="Other", slug="other", issue_prefix="OTH")
    make_issue(other, title="Not theirs")
    bundle = org_export(org=Org.objects.get(slug="source"))
    assert "issues/OTH-1.toml" not in bundle
    result = org_import(actor=SYSTEM, bundle=bundle, as_slug="other")
    assert Issue.objects.get(org=other, number=1).title == "Epic"  # matched by number inside 'other' only
    assert Issue.objects.get(org=Org.objects.get(slug="source"), number=1).title == "Epic"
    assert "update issue OTH-1: key, title, type, work_block" in result.changes
