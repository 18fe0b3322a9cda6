"""The branch of an issue: where it starts, what it ships into, and what it holds so far.

An issue's branch ``mesa/<KEY>`` starts from its parent's branch (which is created first,
recursively, when it does not exist yet) or, for a top-level issue, from the base branch
(the agent's ``base_branch``, else the branch checked out in the repository). That is also
its *target*: the branch it ships into. The :class:`~runners.models.IssueBranch` row records
both once, on the issue's first run in a git repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, transaction
from git import GitCommandError, Repo

from agents.models import Agent
from issues.models import Issue
from runners.models import IssueBranch, Run
from runners.worktrees import (
    Workspace,
    WorkspaceError,
    branch_exists,
    issue_branch_name,
    open_repo,
    repo_lock,
    workspace_prepare,
)

LOG_MAX = 20


def base_branch_of(agent: Agent, repo: Repo) -> str:
    """The base branch: the agent's, else the branch checked out in the repository."""
    if agent.base_branch:
        return agent.base_branch
    if repo.head.is_detached:
        raise WorkspaceError(f"{repo.working_tree_dir} has a detached HEAD; set the agent's base branch")
    return repo.active_branch.name


def _ensure_git_branch(repo: Repo, issue: Issue, base: str, depth: int = 0) -> tuple[str, str]:
    """Create ``issue``'s branch if missing (its parent's first); returns (branch, target)."""
    name = issue_branch_name(issue.key)
    parent = issue.parent if depth < 10 else None
    target = _ensure_git_branch(repo, parent, base, depth + 1)[0] if parent is not None else base
    if not branch_exists(repo, name):
        repo.git.branch(name, repo.commit(target).hexsha)
    _record(issue, name=name, target=target, repo_root=str(Path(repo.working_tree_dir or "").resolve()))
    return name, target


def _record(issue: Issue, *, name: str, target: str, repo_root: str) -> None:
    try:
        with transaction.atomic():
            IssueBranch.objects.get_or_create(
                issue=issue, defaults={"org_id": issue.org_id, "name": name, "target": target, "repo_root": repo_root}
            )
    except IntegrityError:
        pass  # a concurrent run of a sibling recorded it first


def issue_workspace(*, agent: Agent, run: Run, issue: Issue) -> Workspace:
    """The run's worktree on the issue's branch (created, with its parents', on the first run)."""
    repo = open_repo(Path(agent.working_dir).expanduser()) if Path(agent.working_dir).expanduser().is_dir() else None
    start_point = ""
    if repo is not None and not repo.bare and repo.working_tree_dir:
        try:
            base = base_branch_of(agent, repo)
            if issue.parent is not None:
                with repo_lock(str(Path(repo.working_tree_dir or "").resolve())):  # siblings start at once
                    start_point = _ensure_git_branch(repo, issue.parent, base)[0]
        except (GitCommandError, ValueError) as exc:
            raise WorkspaceError(f"could not create the branch of {issue.key}'s parent: {exc}") from exc
    ws = workspace_prepare(
        working_dir=agent.working_dir,
        run_id=run.pk,
        issue_key=issue.key,
        base_branch=agent.base_branch,
        start_point=start_point,
    )
    if ws.isolated and repo is not None:
        _record(issue, name=ws.branch, target=start_point or base_branch_of(agent, repo), repo_root=ws.repo_root)
    return ws


@dataclass(frozen=True)
class BranchSummary:
    name: str
    target: str
    ahead: int  # commits on the branch not on the target
    behind: int  # commits on the target not on the branch
    log: list[str]  # short log of the branch's own commits, newest first
    stat: str  # diff stat of target...branch
    exists: bool = True


def branch_summary(record: IssueBranch, *, patch: bool = False) -> tuple[BranchSummary, str]:
    """What the branch holds against its target; with ``patch``, also the issue's diff (target...branch)."""
    repo = open_repo(record.repo_root)
    if repo is None or not branch_exists(repo, record.name) or not branch_exists(repo, record.target):
        return BranchSummary(record.name, record.target, 0, 0, [], "", exists=False), ""
    rng = f"{record.target}...{record.name}"
    try:
        behind, ahead = (int(n) for n in repo.git.rev_list("--left-right", "--count", rng).split())
        log = repo.git.log("--format=%h %s", f"-{LOG_MAX}", f"{record.target}..{record.name}").splitlines()
        stat = repo.git.diff("--stat", rng)
        diff = repo.git.diff(rng) if patch else ""
    except GitCommandError:
        return BranchSummary(record.name, record.target, 0, 0, [], "", exists=False), ""
    return BranchSummary(record.name, record.target, ahead, behind, log, stat), diff


def issue_branch(issue: Issue) -> IssueBranch | None:
    return IssueBranch.objects.filter(issue=issue).first()


@dataclass
class WorkspaceState:
    """An issue's workspace as git sees it: its branch against its target, and the active run's worktree."""

    branch: str
    target: str
    exists: bool
    ahead: int
    behind: int
    log: list[str]
    stat: str
    ship_state: str
    ship_detail: str
    pr_url: str
    run_id: int | None  # the active run on the issue, if any
    dirty: list[str]  # uncommitted paths in that run's worktree (``git status --porcelain`` lines)


def workspace_state(issue: Issue) -> WorkspaceState | None:
    """The issue's workspace state, or None before its first run in a git repository."""
    record = issue_branch(issue)
    if record is None:
        return None
    summary, _ = branch_summary(record)
    active = Run.objects.filter(issue=issue, status="running").exclude(worktree_path="").order_by("-id").first()
    dirty: list[str] = []
    if active is not None and Path(active.worktree_path).is_dir():
        try:
            dirty = Repo(active.worktree_path).git.status("--porcelain").splitlines()
        except GitCommandError:
            dirty = []
    return WorkspaceState(
        branch=record.name,
        target=record.target,
        exists=summary.exists,
        ahead=summary.ahead,
        behind=summary.behind,
        log=summary.log,
        stat=summary.stat,
        ship_state=record.ship_state,
        ship_detail=record.ship_detail,
        pr_url=record.pr_url,
        run_id=active.pk if active is not None else None,
        dirty=dirty,
    )
