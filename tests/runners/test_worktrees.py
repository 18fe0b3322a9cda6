from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runners.worktrees import workspace_finish, workspace_prepare, worktrees_prune
from tests.runners.conftest import git


def test_it_gives_a_run_its_own_worktree_on_the_issue_branch_cut_from_the_base(repo: Path) -> None:
    ws = workspace_prepare(working_dir=str(repo), run_id=7, issue_key="ACME-3")
    assert ws.isolated and ws.branch == "mesa/ACME-3"
    assert ws.cwd != repo and (ws.cwd / "README.md").read_text() == "hello\n"
    assert git(ws.cwd, "rev-parse", "--abbrev-ref", "HEAD") == "mesa/ACME-3"
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
    assert "untracked.txt" in git(repo, "show", "--stat", "--format=", "mesa/ACME-4")
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


def test_it_gives_every_run_of_an_issue_the_work_before_it_and_a_diff_of_its_own(repo: Path) -> None:
    first = workspace_prepare(working_dir=str(repo), run_id=30, issue_key="ACME-10")
    (first.cwd / "feature.txt").write_text("v1\n")
    first_diff = workspace_finish(first, run_id=30)

    review = workspace_prepare(working_dir=str(repo), run_id=31, issue_key="ACME-10")
    assert review.branch == first.branch and (review.cwd / "feature.txt").read_text() == "v1\n"
    assert review.base_sha == first.end_sha
    (review.cwd / "notes.txt").write_text("reviewed\n")
    review_diff = workspace_finish(review, run_id=31)

    assert "+v1" in first_diff and "notes.txt" not in first_diff
    assert "+reviewed" in review_diff and "feature.txt" not in review_diff
    log = git(repo, "log", "--format=%s", "main..mesa/ACME-10")
    assert log.splitlines() == ["mesa: uncommitted changes left by run 31", "mesa: uncommitted changes left by run 30"]


def test_it_keeps_an_issue_branch_a_run_left_unchanged(repo: Path) -> None:
    ws = workspace_prepare(working_dir=str(repo), run_id=32, issue_key="ACME-11")
    assert workspace_finish(ws, run_id=32) == ""
    assert ws.end_sha == ws.base_sha and git(repo, "branch", "--list", "mesa/ACME-11") != ""


def test_it_cuts_a_sub_issue_branch_from_its_parents_branch(repo: Path) -> None:
    parent = workspace_prepare(working_dir=str(repo), run_id=33, issue_key="ACME-12")
    (parent.cwd / "parent.txt").write_text("p\n")
    workspace_finish(parent, run_id=33)

    child = workspace_prepare(working_dir=str(repo), run_id=34, issue_key="ACME-13", start_point="mesa/ACME-12")

    assert (child.cwd / "parent.txt").exists()
    workspace_finish(child, run_id=34)


def test_it_frees_the_branch_from_a_crashed_runs_worktree_but_not_from_a_humans_checkout(
    repo: Path, tmp_path: Path
) -> None:
    from runners.worktrees import WorkspaceError

    crashed = workspace_prepare(working_dir=str(repo), run_id=35, issue_key="ACME-14")
    again = workspace_prepare(working_dir=str(repo), run_id=36, issue_key="ACME-14")
    assert not Path(crashed.worktree_path).exists() and Path(again.worktree_path).is_dir()
    workspace_finish(again, run_id=36)

    git(repo, "worktree", "add", "-q", str(tmp_path / "mine"), "mesa/ACME-14")
    with pytest.raises(WorkspaceError, match="checked out in"):
        workspace_prepare(working_dir=str(repo), run_id=37, issue_key="ACME-14")
