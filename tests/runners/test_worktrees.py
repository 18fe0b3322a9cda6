from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runners.worktrees import workspace_finish, workspace_prepare, worktrees_prune
from tests.runners.conftest import git


def test_it_gives_a_run_its_own_worktree_on_a_new_branch_from_the_base(repo: Path) -> None:
    ws = workspace_prepare(working_dir=str(repo), run_id=7, issue_key="ACME-3")
    assert ws.isolated and ws.branch == "mesa/ACME-3-r7"
    assert ws.cwd != repo and (ws.cwd / "README.md").read_text() == "hello\n"
    assert git(ws.cwd, "rev-parse", "--abbrev-ref", "HEAD") == "mesa/ACME-3-r7"
    assert ws.base_sha == git(repo, "rev-parse", "main")
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"  # main checkout untouched
    workspace_finish(ws, run_id=7)


def test_it_stores_committed_uncommitted_and_new_files_in_the_diff_and_keeps_the_branch(repo: Path) -> None:
    ws = workspace_prepare(working_dir=str(repo), run_id=8, issue_key="ACME-4")
    (ws.cwd / "committed.txt").write_text("one\n")
    git(ws.cwd, "add", "committed.txt")
    git(ws.cwd, "commit", "-q", "-m", "agent commit")
    (ws.cwd / "README.md").write_text("hello\nchanged\n")
    (ws.cwd / "untracked.txt").write_text("new\n")

    diff = workspace_finish(ws, run_id=8)

    assert "+one" in diff and "+changed" in diff and "+new" in diff
    assert not Path(ws.worktree_path).exists()
    assert "untracked.txt" in git(repo, "show", "--stat", "--format=", "mesa/ACME-4-r8")
    assert git(repo, "status", "--porcelain") == "" and not (repo / "committed.txt").exists()


def test_it_deletes_the_branch_of_a_run_that_changed_nothing(repo: Path) -> None:
    ws = workspace_prepare(working_dir=str(repo), run_id=9, issue_key=None)
    assert ws.branch == "mesa/heartbeat-9"
    assert workspace_finish(ws, run_id=9) == ""
    assert git(repo, "branch", "--list", "mesa/heartbeat-9") == ""


def test_it_keeps_the_worktree_when_configured(repo: Path, settings: Any) -> None:
    settings.MESA_KEEP_WORKTREES = True
    ws = workspace_prepare(working_dir=str(repo), run_id=10, issue_key="ACME-5")
    workspace_finish(ws, run_id=10)
    assert Path(ws.worktree_path).is_dir()


def test_it_starts_from_the_agents_base_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "develop")
    (repo / "dev.txt").write_text("dev\n")
    git(repo, "add", "dev.txt")
    git(repo, "commit", "-q", "-m", "on develop")
    git(repo, "checkout", "-q", "main")
    ws = workspace_prepare(working_dir=str(repo), run_id=11, issue_key="ACME-6", base_branch="develop")
    assert (ws.cwd / "dev.txt").exists()
    assert ws.base_sha == git(repo, "rev-parse", "develop")
    workspace_finish(ws, run_id=11)


def test_it_runs_in_place_when_the_working_dir_is_not_a_git_repo(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    ws = workspace_prepare(working_dir=str(plain), run_id=12, issue_key="ACME-7")
    assert not ws.isolated and ws.cwd == plain and ws.branch == ""
    assert workspace_finish(ws, run_id=12) == ""


def test_it_refuses_a_missing_working_dir_or_base_branch(repo: Path, tmp_path: Path) -> None:
    from runners.worktrees import WorkspaceError

    with pytest.raises(WorkspaceError, match="does not exist"):
        workspace_prepare(working_dir=str(tmp_path / "nope"), run_id=13, issue_key=None)
    with pytest.raises(WorkspaceError, match="base branch"):
        workspace_prepare(working_dir=str(repo), run_id=13, issue_key=None, base_branch="no-such-branch")


def test_it_prunes_worktrees_of_crashed_runs_but_not_of_running_ones(repo: Path) -> None:
    crashed = workspace_prepare(working_dir=str(repo), run_id=20, issue_key="ACME-8")
    alive = workspace_prepare(working_dir=str(repo), run_id=21, issue_key="ACME-9")

    removed = worktrees_prune(repo_dirs=[str(repo)], keep_run_ids={21})

    assert removed == [crashed.worktree_path]
    assert not Path(crashed.worktree_path).exists() and Path(alive.worktree_path).exists()
    listed = git(repo, "worktree", "list")
    assert crashed.worktree_path not in listed and alive.worktree_path in listed
