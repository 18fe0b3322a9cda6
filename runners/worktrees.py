"""A git worktree per run: two runs never share a checkout, the main checkout is never touched.

One branch per issue: every run on an issue (task, rework, review) gets its own worktree,
under ``MESA_WORKTREES_DIR``, on the issue's branch ``mesa/<issue-key>`` — so each run sees
the work of the runs before it. The branch is created on the first run, from ``start_point``
(the parent issue's branch) or the agent's base branch. Heartbeats get a throwaway branch
``mesa/heartbeat-<run-id>``. Git refuses a second worktree on a checked-out branch, so the
scheduler serialises the runs of an issue (``run_claim``); a worktree of a crashed run still
holding the branch is removed here. ``workspace_finish`` commits whatever the agent left
uncommitted (new files included) with a message naming the run, records the run's end commit
(``Workspace.end_sha``; its diff is ``base_sha..end_sha``, its own commits only), deletes an
empty heartbeat branch (issue branches are kept) and removes the worktree
(``MESA_KEEP_WORKTREES`` keeps it). A working dir that is not a git repository runs in place
(``isolated=False``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from git import BadName, GitCommandError, InvalidGitRepositoryError, NoSuchPathError, Repo

log = logging.getLogger(__name__)

DIFF_MAX = 1_000_000  # characters of diff stored with a run
GIT_IDENTITY = ("-c", "user.name=Mesa", "-c", "user.email=mesa@localhost", "-c", "commit.gpgsign=false")
_repo_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def repo_lock(repo_root: str) -> threading.Lock:
    # `git worktree add/remove` on one repository from several threads races on .git/worktrees.
    with _locks_guard:
        return _repo_locks.setdefault(repo_root, threading.Lock())


def worktrees_root() -> Path:
    root = Path(settings.MESA_WORKTREES_DIR)
    return root if root.is_absolute() else Path(settings.BASE_DIR) / root


def workspaces_root() -> Path:
    root = Path(settings.MESA_WORKSPACES_DIR)
    return root if root.is_absolute() else Path(settings.BASE_DIR) / root


def agent_home(agent: Any) -> Path:
    """Where an agent works: its working_dir, else a private directory per agent (never a checkout of Mesa)."""
    if agent.working_dir:
        return Path(agent.working_dir).expanduser()
    return workspaces_root() / agent.org.slug / agent.slug


def open_repo(path: str | Path) -> Repo | None:
    """The git repository containing ``path``, or None."""
    try:
        return Repo(str(path), search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return None


def repo_dir_name(repo_root: Path) -> str:
    digest = hashlib.sha256(str(repo_root).encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9._-]', '-', repo_root.name)[:40]}-{digest}"


def issue_branch_name(issue_key: str) -> str:
    """The one branch of an issue: ``mesa/<KEY>``."""
    return f"mesa/{re.sub(r'[^A-Za-z0-9._-]', '-', issue_key)}"


def branch_name(*, run_id: int, issue_key: str | None) -> str:
    return issue_branch_name(issue_key) if issue_key else f"mesa/heartbeat-{run_id}"


@dataclass
class Workspace:
    cwd: Path  # where the agent runs
    isolated: bool  # True: a worktree of its own
    branch: str = ""
    base_sha: str = ""  # the branch tip when the run started: the run's diff is base_sha..end_sha
    worktree_path: str = ""
    repo_root: str = ""
    end_sha: str = ""  # set by workspace_finish
    shared_branch: bool = False  # an issue branch: kept even when the run added nothing


def branch_exists(repo: Repo, branch: str) -> bool:
    try:
        repo.git.rev_parse("--verify", "-q", f"refs/heads/{branch}")
    except GitCommandError:
        return False
    return True


def worktree_holders(repo: Repo) -> dict[str, str]:
    """Checked-out branches of every worktree of ``repo``: {branch name: worktree path}."""
    holders: dict[str, str] = {}
    path = ""
    for line in repo.git.worktree("list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            path = line[len("worktree ") :]
        elif line.startswith("branch refs/heads/"):
            holders[line[len("branch refs/heads/") :]] = path
    return holders


def _release_branch(repo: Repo, branch: str) -> None:
    """Free ``branch`` from a worktree a crashed run left behind; refuse when a human's checkout holds it."""
    holder = worktree_holders(repo).get(branch)
    if holder is None:
        return
    if Path(holder).resolve().is_relative_to(worktrees_root().resolve()):
        worktree_remove(repo, Path(holder))  # runs of an issue are serialised: this one is stale
        return
    raise WorkspaceError(f"branch {branch} is checked out in {holder}; check out another branch there first")


def workspace_prepare(
    *, working_dir: str, run_id: int, issue_key: str | None, base_branch: str = "", start_point: str = ""
) -> Workspace:
    """Create the run's workspace. Raises ``WorkspaceError`` with a clear reason when it cannot.

    ``start_point``: where a new issue branch starts (the parent issue's branch); default the base.
    """
    wd = Path(working_dir).expanduser() if working_dir else None
    if wd is None:
        raise WorkspaceError("the agent has no working directory")
    if not wd.is_dir():
        raise WorkspaceError(f"working directory {wd} does not exist")
    repo = open_repo(wd)
    if repo is None or repo.bare or not repo.working_tree_dir:
        return Workspace(cwd=wd, isolated=False)
    root = Path(repo.working_tree_dir).resolve()
    try:
        base_ref = base_branch or (repo.active_branch.name if not repo.head.is_detached else "HEAD")
        base_sha = repo.commit(base_ref).hexsha
    except (ValueError, GitCommandError, TypeError, BadName) as exc:
        raise WorkspaceError(f"base branch {base_branch or 'HEAD'!r} not found in {root}: {exc}") from exc
    branch = branch_name(run_id=run_id, issue_key=issue_key)
    path = worktrees_root() / repo_dir_name(root) / f"run-{run_id}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with repo_lock(str(root)):
        if path.exists():  # a leftover of a crashed run with the same id (a reset database)
            worktree_remove(repo, path)
        try:
            if not branch_exists(repo, branch):
                start = base_sha
                if start_point:
                    start = repo.commit(start_point).hexsha if branch_exists(repo, start_point) else base_sha
                repo.git.branch(branch, start)
            _release_branch(repo, branch)
            repo.git.worktree("add", str(path), branch)
            start_sha = repo.commit(branch).hexsha
        except GitCommandError as exc:
            raise WorkspaceError(f"git worktree add failed: {exc.stderr.strip() or exc}") from exc
    rel = wd.resolve().relative_to(root)
    return Workspace(
        cwd=path / rel,
        isolated=True,
        branch=branch,
        base_sha=start_sha,
        worktree_path=str(path),
        repo_root=str(root),
        shared_branch=bool(issue_key),
    )


class WorkspaceError(Exception):
    pass


def workspace_finish(ws: Workspace, *, run_id: int, keep: bool | None = None) -> str:
    """Save the run's work on its branch, return the run's own diff (``base_sha..HEAD``), remove the worktree."""
    if not ws.isolated:
        return ""
    keep = settings.MESA_KEEP_WORKTREES if keep is None else keep
    path = Path(ws.worktree_path)
    diff = ""
    repo = Repo(ws.repo_root)
    if path.is_dir():
        wt = Repo(str(path))
        try:
            wt.git.add("-A")
            if wt.is_dirty(index=True, working_tree=False):
                wt.git.execute(
                    [
                        "git",
                        *GIT_IDENTITY,
                        "commit",
                        "--no-verify",
                        "-q",
                        "-m",
                        f"mesa: uncommitted changes left by run {run_id}",
                    ]
                )
            ws.end_sha = wt.head.commit.hexsha
            diff = wt.git.diff(ws.base_sha, "HEAD", "--binary")
        except GitCommandError as exc:
            log.warning("could not save the work of run %s: %s", run_id, exc)
            diff = f"[mesa could not compute the diff: {exc.stderr.strip() if exc.stderr else exc}]"
    if len(diff) > DIFF_MAX:
        diff = diff[:DIFF_MAX] + f"\n[... diff truncated, {len(diff)} characters in all ...]\n"
    with repo_lock(ws.repo_root):
        if not keep:
            worktree_remove(repo, path)
            try:
                if not ws.shared_branch and repo.commit(ws.branch).hexsha == ws.base_sha:
                    repo.git.branch("-D", ws.branch)  # nothing was done: no branch to keep
            except (GitCommandError, ValueError) as exc:
                log.warning("branch cleanup of run %s failed: %s", run_id, exc)
    return diff


def worktree_remove(repo: Repo, path: Path) -> None:
    with contextlib.suppress(GitCommandError):
        repo.git.worktree("remove", "--force", "--force", str(path))
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(GitCommandError):
        repo.git.worktree("prune")


def worktrees_prune(*, repo_dirs: list[str], keep_run_ids: set[int]) -> list[str]:
    """Remove worktrees left by crashed runs (any run not in ``keep_run_ids``); returns removed paths."""
    removed: list[str] = []
    seen: set[str] = set()
    for wd in repo_dirs:
        repo = open_repo(wd) if wd else None
        if repo is None or not repo.working_tree_dir:
            continue
        root = Path(repo.working_tree_dir).resolve()
        if str(root) in seen:
            continue
        seen.add(str(root))
        base = worktrees_root() / repo_dir_name(root)
        with repo_lock(str(root)):
            if base.is_dir():
                for child in sorted(base.iterdir()):
                    match = re.fullmatch(r"run-(\d+)", child.name)
                    if match and int(match.group(1)) not in keep_run_ids:
                        worktree_remove(repo, child)
                        removed.append(str(child))
            with contextlib.suppress(GitCommandError):
                repo.git.worktree("prune")
    return removed


def repo_ensure(path: str | Path) -> Path:
    """A git repository for an org's agents at ``path``: used as it is, or created (``main``, one commit).

    A directory that exists, is not in a repository and is not empty is refused (``WorkspaceError``):
    Mesa never turns someone's files into a repository behind their back.
    """
    target = Path(path).expanduser().resolve()
    repo = open_repo(target) if target.exists() else None
    if repo is None:
        if target.exists() and any(target.iterdir()):
            raise WorkspaceError(
                f"{target} is not a git repository and not empty; run `git init` there or pick another path"
            )
        target.mkdir(parents=True, exist_ok=True)
        repo = Repo.init(str(target), initial_branch="main")
        (target / "README.md").write_text("# Work of the org's agents\n\nMesa merges finished issues here.\n")
        repo.git.add("README.md")
    # The CEO's backlog lives in artifact-docs/ of its working dir: never a change of the user's checkout.
    exclude = Path(repo.git_dir) / "info" / "exclude"
    if "artifact-docs/" not in (exclude.read_text() if exclude.exists() else ""):
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a") as fh:
            fh.write("\nartifact-docs/\n")
    try:
        repo.head.commit  # noqa: B018 — raises on a repository without commits
    except ValueError:
        repo.git.execute(["git", *GIT_IDENTITY, "commit", "-q", "--allow-empty", "-m", "Initial commit (Mesa)"])
    return target
