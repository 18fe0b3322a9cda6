from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from runners.branches import issue_workspace
from runners.models import IssueBranch, ShipState
from runners.worktrees import workspace_finish
from tests.factories import make_agent, make_issue, make_org, make_run

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "issue-branch"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, settings: Any) -> Path:
    settings.MESA_WORKTREES_DIR = str(tmp_path / "worktrees")
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("hello\n")
    git(path, "add", "README.md")
    git(path, "-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q", "-m", "initial")
    return path


def worked_issue(org: Any, repo: Path) -> Any:
    dev = make_agent(org, slug="dev", working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    run = make_run(dev, issue=issue, status="completed")
    ws = issue_workspace(agent=dev, run=run, issue=issue)
    (ws.cwd / "feature.txt").write_text("the feature\n")
    workspace_finish(ws, run_id=run.pk)
    return issue


def test_it_shows_the_branch_ahead_behind_the_diff_and_the_ship_state(client: Any, org: Any, repo: Path) -> None:
    issue = worked_issue(org, repo)

    body = client.get(f"/issues/{issue.key}/").content.decode()

    assert f"mesa/{issue.key}" in body and "1 ahead · 0 behind main" in body
    assert "feature.txt | 1 +" in body and "+the feature" in body  # stat and the collapsible patch
    assert 'data-ship-state="working"' in body and "mesa:issue_shipped" in body
    assert f'action="/issues/{issue.key}/branch/merge"' in body


def test_it_merges_the_branch_when_a_human_presses_merge(client: Any, org: Any, repo: Path) -> None:
    issue = worked_issue(org, repo)

    response = client.post(f"/issues/{issue.key}/branch/merge", **HTMX)

    assert response.status_code == 200 and 'data-ship-state="merged"' in response.content.decode()
    assert (repo / "feature.txt").exists() and git(repo, "status", "--porcelain") == ""
    assert IssueBranch.objects.get(issue=issue).ship_state == ShipState.MERGED


def test_it_discards_the_branch(client: Any, org: Any, repo: Path) -> None:
    issue = worked_issue(org, repo)
    response = client.post(f"/issues/{issue.key}/branch/discard", **HTMX)
    assert 'data-ship-state="discarded"' in response.content.decode()
    assert git(repo, "branch", "--list", f"mesa/{issue.key}") == ""


def test_it_refuses_branch_actions_on_another_orgs_issue(client: Any, org: Any, repo: Path) -> None:
    other = make_org(name="Other", slug="other", issue_prefix="OTH")
    issue = worked_issue(other, repo)
    response = client.post(f"/issues/{issue.key}/branch/merge")
    assert response.status_code == 404
    assert git(repo, "rev-parse", "main") != git(repo, "rev-parse", f"mesa/{issue.key}")
