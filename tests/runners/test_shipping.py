from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from issues.models import Issue, Status
from issues.services import issue_transition
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden
from runners.branch_prompt import branch_section
from runners.branches import issue_branch, issue_workspace
from runners.dispatch import dispatch_events
from runners.models import Run, ShipState
from runners.run_env import build_env
from runners.shipping import SHIPPER, issue_branch_discard, issue_ship, ship_poll
from runners.worktrees import workspace_finish
from tests.factories import make_agent, make_issue, make_run
from tests.fakes.github_api import FakeGitHub
from tests.runners.conftest import git

pytestmark = pytest.mark.django_db


def work(agent: Any, issue: Issue, files: dict[str, str]) -> Run:
    """One run of ``agent`` on ``issue`` that writes ``files`` on the issue branch (left uncommitted)."""
    run = make_run(agent, issue=issue, status="completed")
    ws = issue_workspace(agent=agent, run=run, issue=issue)
    for name, text in files.items():
        (ws.cwd / name).write_text(text)
    workspace_finish(ws, run_id=run.pk)
    return run


def done(issue: Issue) -> Issue:
    Issue.objects.filter(pk=issue.pk).update(status=Status.DONE)
    issue.refresh_from_db()
    return issue


def commit_on_main(repo: Path, name: str, text: str) -> None:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"main: {name}")


def test_it_fast_forwards_the_checked_out_base_and_leaves_the_users_checkout_clean(org: Any, repo: Path) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"feature.txt": "new\n"})

    record = issue_ship(actor=SHIPPER, issue=done(issue))

    assert record is not None and record.ship_state == ShipState.MERGED
    assert git(repo, "rev-parse", "main") == git(repo, "rev-parse", f"mesa/{issue.key}") == record.merged_sha
    assert (repo / "feature.txt").read_text() == "new\n"  # the user's checkout moved with main
    assert git(repo, "status", "--porcelain") == ""
    assert issue.comments.filter(kind="system", body__contains="merged").exists()


def test_it_makes_a_merge_commit_when_the_base_moved_on(org: Any, repo: Path) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"feature.txt": "new\n"})
    commit_on_main(repo, "other.txt", "meanwhile\n")
    before = git(repo, "rev-parse", "main")

    issue_ship(actor=SHIPPER, issue=done(issue))

    assert git(repo, "rev-parse", "main^1") == before  # a merge commit on top: main was not rewritten
    assert git(repo, "rev-parse", "main^2") == git(repo, "rev-parse", f"mesa/{issue.key}")
    assert (repo / "feature.txt").exists() and (repo / "other.txt").exists()
    assert git(repo, "status", "--porcelain") == ""


def test_it_blocks_the_issue_on_a_conflict_and_asks_the_author_to_rebase_leaving_nothing_half_merged(
    org: Any, repo: Path, settings: Any
) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"README.md": "theirs\n"})
    commit_on_main(repo, "README.md", "ours\n")
    before = git(repo, "rev-parse", "main")

    record = issue_ship(actor=SHIPPER, issue=done(issue))

    assert record is not None and record.ship_state == ShipState.CONFLICT
    issue.refresh_from_db()
    assert issue.status == Status.BLOCKED
    note = issue.comments.get(kind="system", body__contains="conflicts")
    assert "- README.md" in note.body
    rerun = Run.objects.get(issue=issue, status="queued")
    assert rerun.agent == dev and "rebase on main" in rerun.reason
    assert git(repo, "rev-parse", "main") == before and git(repo, "status", "--porcelain") == ""
    assert git(repo, "worktree", "list").count("\n") == 0  # the temporary merge worktree is gone
    assert not list((Path(settings.MESA_WORKTREES_DIR)).glob("*/merge-*"))


def test_it_waits_instead_of_touching_local_changes_in_the_users_checkout(org: Any, repo: Path) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"README.md": "from the agent\n"})
    (repo / "README.md").write_text("the user's unsaved edit\n")
    before = git(repo, "rev-parse", "main")

    record = issue_ship(actor=SHIPPER, issue=done(issue))

    assert record is not None and record.ship_state == ShipState.WAITING and "README.md" in record.ship_detail
    assert git(repo, "rev-parse", "main") == before
    assert (repo / "README.md").read_text() == "the user's unsaved edit\n"


def test_it_moves_the_base_ref_when_another_branch_is_checked_out(org: Any, repo: Path) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo), base_branch="main")
    git(repo, "checkout", "-q", "-b", "elsewhere")
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"feature.txt": "x\n"})

    issue_ship(actor=SHIPPER, issue=done(issue))

    assert git(repo, "rev-parse", "main") == git(repo, "rev-parse", f"mesa/{issue.key}")
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "elsewhere" and not (repo / "feature.txt").exists()


def test_it_merges_a_done_child_into_its_parents_branch_and_the_parent_into_the_base(org: Any, repo: Path) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    design = make_agent(org, slug="design", working_dir=str(repo))
    parent = make_issue(org, title="Epic")
    api = make_issue(org, title="API", assignee=dev, parent=parent)
    ui = make_issue(org, title="UI", assignee=design, parent=parent)
    work(dev, api, {"api.txt": "api\n"})
    work(design, ui, {"ui.txt": "ui\n"})
    main_before = git(repo, "rev-parse", "main")

    issue_ship(actor=SHIPPER, issue=done(api))
    issue_ship(actor=SHIPPER, issue=done(ui))

    assert git(repo, "rev-parse", "main") == main_before  # children ship into the parent's branch
    files = git(repo, "ls-tree", "--name-only", f"mesa/{parent.key}").split()
    assert {"api.txt", "ui.txt"} <= set(files)
    record = issue_ship(actor=SHIPPER, issue=done(parent))
    assert record is not None and record.target == "main" and record.ship_state == ShipState.MERGED
    assert (repo / "api.txt").exists() and (repo / "ui.txt").exists() and git(repo, "status", "--porcelain") == ""


def test_it_keeps_the_branch_with_ship_mode_none_from_the_agent_over_the_org(org: Any, repo: Path) -> None:
    org.settings = {"ship": {"mode": "merge"}}
    org.save()
    dev = make_agent(org, slug="dev", working_dir=str(repo), ship_mode="none")
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"feature.txt": "x\n"})
    before = git(repo, "rev-parse", "main")

    record = issue_ship(actor=SHIPPER, issue=done(issue))

    assert record is not None and record.ship_state == ShipState.KEPT
    assert git(repo, "rev-parse", "main") == before


def test_it_ships_when_the_scheduler_sees_the_issue_reach_done(org: Any, repo: Path) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"feature.txt": "x\n"})
    Issue.objects.filter(pk=issue.pk).update(status=Status.IN_REVIEW)
    issue.refresh_from_db()
    issue_transition(actor=Actor.system("board"), issue=issue, to=Status.DONE)

    dispatch_events(0)

    record = issue_branch(issue)
    assert record is not None and record.ship_state == ShipState.MERGED and (repo / "feature.txt").exists()


def test_it_lets_only_who_may_edit_the_issue_discard_its_branch(org: Any, repo: Path) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    stranger = make_agent(org, slug="stranger")
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"feature.txt": "x\n"})

    with pytest.raises(Forbidden):
        issue_branch_discard(actor=Actor.for_agent(stranger), issue=issue)
    record = issue_branch_discard(actor=Actor.system("board"), issue=issue)

    assert record.ship_state == ShipState.DISCARDED and git(repo, "branch", "--list", f"mesa/{issue.key}") == ""
    with pytest.raises(Conflict):
        issue_ship(actor=SHIPPER, issue=done(issue))


# -- pull requests ------------------------------------------------------------------------------


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


@pytest.fixture
def origin(repo: Path, tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    return bare


def pr_org(org: Any, github: FakeGitHub, settings: Any) -> None:
    settings.MESA_FORGE_TOKEN = "ghp_fake_token"
    org.settings = {"ship": {"mode": "pull_request", "forge": "github", "api_url": github.base_url, "repo": "acme/app"}}
    org.save()


def test_it_opens_a_pull_request_with_mesas_token_and_reads_the_merge_back(
    org: Any, repo: Path, origin: Path, github: FakeGitHub, settings: Any
) -> None:
    pr_org(org, github, settings)
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"feature.txt": "x\n"})

    record = issue_ship(actor=SHIPPER, issue=done(issue))

    assert record is not None and record.ship_state == ShipState.PR_OPEN, record.ship_detail if record else ""
    assert record.pr_url == "https://github.example/acme/app/pull/1"
    create = next(c for c in github.calls if c.method == "POST")
    assert create.path == "/repos/acme/app/pulls" and create.authorization == "Bearer ghp_fake_token"
    assert create.body["head"] == f"mesa/{issue.key}" and create.body["base"] == "main"
    assert git(origin, "rev-parse", f"mesa/{issue.key}") == git(repo, "rev-parse", f"mesa/{issue.key}")

    assert ship_poll() == 1
    assert issue_branch(issue).ship_state == ShipState.PR_OPEN  # type: ignore[union-attr]
    github.merge(1)
    ship_poll()
    assert issue_branch(issue).ship_state == ShipState.MERGED  # type: ignore[union-attr]


def test_it_sends_the_author_back_to_work_when_the_pull_request_review_requests_changes(
    org: Any, repo: Path, origin: Path, github: FakeGitHub, settings: Any
) -> None:
    pr_org(org, github, settings)
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"feature.txt": "x\n"})
    issue_ship(actor=SHIPPER, issue=done(issue))

    github.review(1, "CHANGES_REQUESTED", "Please add tests.")
    ship_poll()
    ship_poll()  # the same review is acted on once

    issue.refresh_from_db()
    assert issue.status == Status.TODO
    assert issue.comments.filter(kind="system", body__contains="Please add tests.").count() == 1
    assert Run.objects.filter(issue=issue, agent=dev, status="queued").count() == 1

    work(dev, issue, {"tests.txt": "t\n"})  # the rework, then done again: the same pull request
    record = issue_ship(actor=SHIPPER, issue=done(issue))
    assert record is not None and record.ship_state == ShipState.PR_OPEN and record.pr_number == 1
    assert len(github.pulls) == 1
    ship_poll()  # the old review was handled: the issue stays done
    assert Issue.objects.get(pk=issue.pk).status == Status.DONE


def test_it_never_hands_the_forge_token_to_a_run(org: Any, settings: Any, monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("MESA_FORGE_TOKEN", "ghp_secret_of_mesa")
    dev = make_agent(org, slug="dev")
    run = make_run(dev)
    env = build_env(agent=dev, run=run, issue=None, api_key="k", workdir=tmp_path)
    assert "ghp_secret_of_mesa" not in env.values()


def test_it_records_a_failure_when_the_forge_refuses_the_token(
    org: Any, repo: Path, origin: Path, github: FakeGitHub, settings: Any
) -> None:
    pr_org(org, github, settings)
    settings.MESA_FORGE_TOKEN = "wrong"
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"feature.txt": "x\n"})

    record = issue_ship(actor=SHIPPER, issue=done(issue))

    assert record is not None and record.ship_state == ShipState.FAILED and "401" in record.ship_detail
    assert "wrong" not in record.ship_detail


def test_it_retries_a_waiting_merge_once_the_users_checkout_is_clean(org: Any, repo: Path) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"README.md": "from the agent\n"})
    (repo / "README.md").write_text("the user's unsaved edit\n")
    issue_ship(actor=SHIPPER, issue=done(issue))
    assert issue_branch(issue).ship_state == ShipState.WAITING  # type: ignore[union-attr]

    git(repo, "checkout", "--", "README.md")  # the user drops the edit
    ship_poll()

    assert issue_branch(issue).ship_state == ShipState.MERGED  # type: ignore[union-attr]
    assert (repo / "README.md").read_text() == "from the agent\n" and git(repo, "status", "--porcelain") == ""


def test_it_tells_the_author_in_the_prompt_to_rebase_after_a_conflict(org: Any, repo: Path) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"README.md": "theirs\n"})
    commit_on_main(repo, "README.md", "ours\n")
    issue_ship(actor=SHIPPER, issue=done(issue))

    section = branch_section(issue)

    assert "conflicted (conflicting files: README.md)" in section and "git rebase main" in section


def test_it_pushes_over_https_with_the_token_in_a_header_never_in_the_record(
    org: Any, repo: Path, github: FakeGitHub, settings: Any
) -> None:
    pr_org(org, github, settings)
    git(repo, "remote", "add", "origin", f"{github.base_url}/acme/app.git")  # the fake refuses git's protocol
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"feature.txt": "x\n"})

    record = issue_ship(actor=SHIPPER, issue=done(issue))

    assert record is not None and record.ship_state == ShipState.FAILED
    pushes = [c for c in github.calls if "/acme/app.git/" in c.path]
    expected = "Basic " + base64.b64encode(b"x-access-token:ghp_fake_token").decode()
    assert pushes and pushes[-1].authorization == expected
    assert "ghp_fake_token" not in record.ship_detail and expected not in record.ship_detail


def test_it_reports_a_conflict_of_an_early_merge_without_moving_the_issue(org: Any, repo: Path) -> None:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    work(dev, issue, {"README.md": "theirs\n"})
    commit_on_main(repo, "README.md", "ours\n")

    record = issue_ship(actor=Actor.system("board"), issue=issue, mode="merge")  # a human presses Merge early

    assert record is not None and record.ship_state == ShipState.CONFLICT
    issue.refresh_from_db()
    assert issue.status == Status.TODO and issue.comments.filter(body__contains="- README.md").exists()
