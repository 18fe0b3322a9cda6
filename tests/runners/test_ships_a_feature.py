"""The end-to-end story: an org turns a backlog item into merged work, with fake CLIs driven by their prompts.

A real git repository (the user's checkout, on ``main``), a live Mesa API (pytest-django's
``live_server``), the real scheduler, and agents on the ``command`` runner running
``tests/fakes/bin/story_agent``, which knows Mesa only through its prompt and environment.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from issues.models import Issue, Status
from issues.services import issue_transition
from orgs.actors import Actor
from runners.backlog import backlog_append
from runners.dispatch import dispatch_events
from runners.models import IssueBranch, Run, RunMode, RunStatus, ShipState
from runners.shipping import ship_poll
from runners.worktrees import repo_ensure
from tests.factories import make_agent
from tests.fakes.github_api import FakeGitHub
from tests.runners.cli_support import FAKES_BIN
from tests.runners.conftest import git

pytestmark = pytest.mark.django_db(transaction=True)
BOARD = Actor.system("board")
AGENT_CLI = str(FAKES_BIN / "story_agent")


def scheduler() -> None:
    call_command("scheduler", once=True, timeout=60)


@pytest.fixture
def story(org: Any, live_server: Any, settings: Any, tmp_path: Path) -> dict[str, Any]:
    settings.MESA_API_URL = f"{live_server.url}/api/v1"
    repo = repo_ensure(tmp_path / "product")  # what `bootstrap` makes for an org
    common = {"runner": "command", "model": AGENT_CLI, "working_dir": str(repo)}
    ceo = make_agent(org, slug="ceo", name="Chief", archetype="ceo", **common)
    qa = make_agent(org, slug="qa", name="Quinn", archetype="qa", reports_to=ceo, **common)
    dev = make_agent(org, slug="dev", name="Dana", archetype="backend", reports_to=ceo, review_agent=qa, **common)
    design = make_agent(org, slug="design", name="Dee", archetype="designer", reports_to=ceo, review_agent=qa, **common)
    return {"repo": repo, "ceo": ceo, "qa": qa, "dev": dev, "design": design, "org": org}


def plan_and_build(s: dict[str, Any]) -> tuple[Issue, Issue, Issue]:
    """Story items 1-2: backlog → CEO plans → engineer and designer build → QA reviews (changes once)."""
    backlog_append(actor=BOARD, org=s["org"], text="Search box")
    for _ in range(4):  # each pass runs everything startable; follow-ups land in the next
        scheduler()
    parent = Issue.objects.get(title="Search box")
    api = Issue.objects.get(title="API: Search box", parent=parent)
    ui = Issue.objects.get(title="UI: Search box", parent=parent)
    assert (parent.assignee, api.assignee, ui.assignee) == (s["ceo"], s["dev"], s["design"])
    return parent, api, ui


def board_approves(issue: Issue) -> None:
    """The humans move the parent to done from wherever its own run left it (its reviewer would be its author)."""
    path: dict[str, str] = {
        Status.TODO: Status.IN_PROGRESS,
        Status.IN_PROGRESS: Status.IN_REVIEW,
        Status.IN_REVIEW: Status.DONE,
    }
    current = Issue.objects.get(pk=issue.pk)
    while current.status != Status.DONE:
        current = issue_transition(actor=BOARD, issue=current, to=path[current.status])


def test_an_org_ships_a_feature(story: dict[str, Any]) -> None:
    repo = story["repo"]
    parent, api, ui = plan_and_build(story)

    # 2. Each child worked on its own branch; QA saw the work; one round of changes on the API.
    api.refresh_from_db()
    ui.refresh_from_db()
    assert (api.status, ui.status) == (Status.DONE, Status.DONE)
    api_runs = list(Run.objects.filter(issue=api).order_by("id"))
    assert [(r.agent.slug, r.mode) for r in api_runs] == [
        ("dev", RunMode.TASK),
        ("qa", RunMode.REVIEW),
        ("dev", RunMode.TASK),
        ("qa", RunMode.REVIEW),
    ]
    assert all(r.status == RunStatus.COMPLETED for r in api_runs), [r.failure_reason for r in api_runs]
    assert {r.branch for r in api_runs} == {f"mesa/{api.key}"}
    first_review = "".join(e.data.get("text", "") for e in api_runs[1].events.all())
    assert f"{api.key}.txt" in first_review  # QA saw the engineer's work in its worktree
    assert api.comments.filter(body__startswith="CHANGES:").count() == 1
    rework, last_review = api_runs[2], api_runs[3]
    assert rework.start_sha == api_runs[1].end_sha  # the rework continued the same branch
    assert f"{api.key}-fix.txt" in "".join(e.data.get("text", "") for e in last_review.events.all())
    # Every run's diff holds only its own changes.
    assert f"+{api.title}" in api_runs[0].diff and "fix" not in api_runs[0].diff
    assert "+the requested fix" in rework.diff and f"+{api.title}" not in rework.diff
    assert git(repo, "log", "-1", "--format=%s", f"mesa/{api.key}").endswith(f"left by run {rework.pk}")

    # 3. Children merged into the parent's branch; main is untouched until the parent is done.
    assert IssueBranch.objects.get(issue=api).ship_state == ShipState.MERGED
    assert IssueBranch.objects.get(issue=ui).target == f"mesa/{parent.key}"
    assert not (repo / f"{api.key}.txt").exists()
    board_approves(parent)
    scheduler()

    assert IssueBranch.objects.get(issue=parent).ship_state == ShipState.MERGED
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    for name in (f"{api.key}.txt", f"{api.key}-fix.txt", f"{ui.key}.txt"):
        assert (repo / name).exists(), name
    assert git(repo, "status", "--porcelain") == ""  # the user's checkout is clean


def test_a_conflict_blocks_the_issue_and_wakes_the_author_to_rebase(story: dict[str, Any]) -> None:
    repo = story["repo"]
    parent, api, ui = plan_and_build(story)
    # Meanwhile someone committed the same file on main.
    (repo / f"{api.key}.txt").write_text("written on main\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=U", "-c", "user.email=u@e", "commit", "-q", "-m", "on main")
    before = git(repo, "rev-parse", "main")
    board_approves(parent)
    Run.objects.filter(status=RunStatus.QUEUED).delete()  # only the shipping outcome matters here
    dispatch_events(0)

    parent.refresh_from_db()
    assert parent.status == Status.BLOCKED
    note = parent.comments.get(kind="system", body__contains="conflicts in")
    assert f"- {api.key}.txt" in note.body
    rebase = Run.objects.get(issue=parent, status=RunStatus.QUEUED)
    assert rebase.agent == story["ceo"] and rebase.reason == f"rebase on main: merging mesa/{parent.key} conflicts"
    assert git(repo, "rev-parse", "main") == before and git(repo, "status", "--porcelain") == ""


# -- the same story with pull requests ------------------------------------------------------------


def github_merges(origin: Path, tmp_path: Path, head: str, base: str) -> str:
    """What GitHub does when a human presses Merge: a merge commit of head into base, on the remote."""
    clone = tmp_path / f"gh-{head.replace('/', '-')}"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    git(clone, "checkout", "-q", base)
    git(
        clone,
        "-c",
        "user.name=GitHub",
        "-c",
        "user.email=gh@e",
        "merge",
        "-q",
        "--no-ff",
        f"origin/{head}",
        "-m",
        f"Merge {head}",
    )
    git(clone, "push", "-q", "origin", base)
    return git(clone, "rev-parse", "HEAD")


def test_an_org_ships_a_feature_through_pull_requests(story: dict[str, Any], settings: Any, tmp_path: Path) -> None:
    repo, org = story["repo"], story["org"]
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    github = FakeGitHub().start()
    try:
        settings.MESA_FORGE_TOKEN = "ghp_fake_token"
        org.settings = {
            "ship": {"mode": "pull_request", "forge": "github", "api_url": github.base_url, "repo": "acme/product"}
        }
        org.save()
        parent, api, ui = plan_and_build(story)

        pulls = {pr["head"]["ref"]: pr for pr in github.pulls.values()}
        assert set(pulls) == {f"mesa/{api.key}", f"mesa/{ui.key}"}
        assert all(pr["base"]["ref"] == f"mesa/{parent.key}" for pr in pulls.values())
        assert all(c.authorization == "Bearer ghp_fake_token" for c in github.calls)
        for head, pr in pulls.items():
            github.merge(pr["number"], github_merges(origin, tmp_path, head, f"mesa/{parent.key}"))
        ship_poll()
        assert {IssueBranch.objects.get(issue=i).ship_state for i in (api, ui)} == {ShipState.MERGED}

        board_approves(parent)
        scheduler()
        record = IssueBranch.objects.get(issue=parent)
        assert record.ship_state == ShipState.PR_OPEN and record.pr_url.endswith(f"/pull/{record.pr_number}")
        assert not (repo / f"{api.key}.txt").exists()  # nothing reaches main before the merge on GitHub

        github.merge(record.pr_number or 0, github_merges(origin, tmp_path, f"mesa/{parent.key}", "main"))
        ship_poll()

        assert IssueBranch.objects.get(issue=parent).ship_state == ShipState.MERGED
        assert (repo / f"{api.key}-fix.txt").exists() and (repo / f"{ui.key}.txt").exists()  # local main followed
        assert git(repo, "status", "--porcelain") == ""
    finally:
        github.stop()
