"""Merging an issue branch into its target without ever leaving a checkout dirty or half-merged.

:func:`merge_into` fast-forwards when the target is an ancestor of the branch, else makes the
merge commit in a temporary detached worktree (a conflict is aborted there and reported with
its files; nothing else changed). Then the target ref moves, never forced:

* if no worktree has the target checked out: ``git update-ref`` with the old value, so a
  target that moved meanwhile is not overwritten;
* if a checkout holds it (the user's repository on ``main``, or a run's worktree on a
  parent's branch): ``git merge --ff-only`` *in that checkout*, so its index and files move
  with the ref. Git refuses when local changes would be overwritten; then nothing moved and
  the result is ``waiting`` with git's reason.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from git import GitCommandError, Repo

from runners.worktrees import (
    GIT_IDENTITY,
    repo_dir_name,
    repo_lock,
    worktree_holders,
    worktree_remove,
    worktrees_root,
)


@dataclass(frozen=True)
class MergeResult:
    # merged | up_to_date | conflict | waiting | failed
    status: str
    sha: str = ""
    files: list[str] = field(default_factory=list)
    detail: str = ""


def _is_ancestor(repo: Repo, older: str, newer: str) -> bool:
    try:
        repo.git.merge_base("--is-ancestor", older, newer)
    except GitCommandError:
        return False
    return True


def merge_into(*, repo_root: str, branch: str, target: str, message: str = "") -> MergeResult:
    """Merge ``branch`` into ``target`` (both local branches of the repository at ``repo_root``)."""
    repo = Repo(repo_root)
    with repo_lock(repo_root):
        try:
            src = repo.commit(branch).hexsha
            old = repo.commit(target).hexsha
        except (GitCommandError, ValueError) as exc:
            return MergeResult("failed", detail=f"branch not found: {exc}")
        if _is_ancestor(repo, src, old):
            return MergeResult("up_to_date", sha=old)
        if _is_ancestor(repo, old, src):
            new = src
        else:
            tmp = (
                worktrees_root()
                / repo_dir_name(Path(repo.working_tree_dir or repo_root))
                / f"merge-{uuid.uuid4().hex[:8]}"
            )
            tmp.parent.mkdir(parents=True, exist_ok=True)
            try:
                repo.git.worktree("add", "--detach", str(tmp), old)
                wt = Repo(str(tmp))
                msg = message or f"Merge {branch} into {target}"
                try:
                    wt.git.execute(["git", *GIT_IDENTITY, "merge", "--no-ff", "--no-edit", "-m", msg, src])
                except GitCommandError as exc:
                    files = wt.git.diff("--name-only", "--diff-filter=U").splitlines()
                    with contextlib.suppress(GitCommandError):
                        wt.git.merge("--abort")
                    if files:
                        return MergeResult("conflict", files=files)
                    return MergeResult("failed", detail=str(exc.stderr or exc).strip()[:1000])
                new = wt.head.commit.hexsha
            finally:
                worktree_remove(repo, tmp)
        holder = worktree_holders(repo).get(target)
        try:
            if holder is None:
                repo.git.update_ref(f"refs/heads/{target}", new, old)
            else:
                Repo(holder).git.merge("--ff-only", "-q", new)
        except GitCommandError as exc:
            reason = str(exc.stderr or exc).strip()[:1000]
            if holder is not None:
                return MergeResult("waiting", detail=f"the checkout of {target} at {holder} is in the way: {reason}")
            return MergeResult("failed", detail=reason)
        return MergeResult("merged", sha=new)
