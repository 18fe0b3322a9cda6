"""Git inside a container run: a per-run git directory that shares the repository's objects read-only.

A run's worktree has a ``.git`` *file* naming a git directory under the repository's common dir on the
host. Mounting that common dir read-write would let the agent rewrite the repository's ``config`` and
hooks, which Mesa's own git commands on the host then obey (``core.fsmonitor``, a hook: code on the
Mesa machine). So the container gets instead:

- the repository's ``objects`` directory, read-only, at :data:`OBJECTS` (the history, every branch's
  objects; only this repository's);
- a fresh git directory of the run at :data:`GITDIR`, read-write: ``HEAD`` on the worktree's branch,
  the repository's branches and tags as packed refs, a copy of the worktree's index, ``alternates``
  pointing at :data:`OBJECTS`, a config with the repository's author identity; new objects land here;
- ``/workspace/.git`` masked by a read-only file that says ``gitdir: /run/mesa-git`` (the host's
  ``.git`` file is never writable from inside).

So ``git status``, ``git diff``, ``git log`` and ``git commit`` work inside. After the run,
:func:`import_commits` copies the run's new objects into the repository (regular files with object or
pack names only), checks the new tip is a commit whose objects are all present, moves the worktree's
branch to it and resets the index to it (the working tree is untouched): Mesa sees the agent's commits
on the issue branch (only the branch the run started on: a branch checked out or made inside stays
there). Nothing the agent wrote into its git directory's config or hooks is ever read by
the host's git.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

GITDIR = "/run/mesa-git"  # the run's git directory inside the container (read-write)
OBJECTS = "/run/mesa-git-objects"  # the repository's objects inside the container (read-only)
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_OBJECT_PATH = re.compile(r"^([0-9a-f]{2}/[0-9a-f]{38}([0-9a-f]{24})?|pack/pack-[0-9a-f]{40,64}\.(pack|idx|rev))$")
_GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class GitImportError(Exception):
    """The run's commits could not be brought back (the reason is the message)."""


@dataclass
class RunGit:
    """The run's git directory on the host and what the container mounts for it."""

    worktree: Path
    common_dir: Path
    run_gitdir: Path  # mounted at GITDIR
    pointer: Path  # mounted read-only over /workspace/.git
    start: str  # the worktree's HEAD commit when the run started
    branch_ref: str = ""  # the branch checked out then (refs/heads/...; "" for a detached HEAD)

    def volumes(self, workspace: str) -> dict[str, dict[str, str]]:
        return {
            str(self.common_dir / "objects"): {"bind": OBJECTS, "mode": "ro"},
            str(self.run_gitdir): {"bind": GITDIR, "mode": "rw"},
            str(self.pointer): {"bind": f"{workspace}/.git", "mode": "ro"},
        }


def _git(worktree: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, **_GIT_ENV}
    done = subprocess.run(["git", "-C", str(worktree), *args], capture_output=True, text=True, env=env, check=False)
    if check and done.returncode != 0:
        raise GitImportError(f"git {args[0]} failed: {done.stderr.strip()[:300]}")
    return done.stdout.strip()


def prepare(worktree: Path, scratch: Path, *, uid: int, gid: int) -> RunGit | None:
    """The run's git directory in ``scratch`` (owned by ``uid:gid``); None when ``worktree`` is not a linked worktree.

    A worktree whose ``.git`` is a directory already has its git directory inside the mount.
    """
    dotgit = worktree / ".git"
    if dotgit.is_symlink() or not dotgit.is_file():
        return None
    try:
        common = Path(_git(worktree, "rev-parse", "--path-format=absolute", "--git-common-dir"))
        gitdir = Path(_git(worktree, "rev-parse", "--path-format=absolute", "--git-dir"))
        start = _git(worktree, "rev-parse", "HEAD")
    except GitImportError:
        return None
    head = _git(worktree, "symbolic-ref", "-q", "HEAD", check=False)
    object_format = _git(worktree, "rev-parse", "--show-object-format", check=False) or "sha1"
    refs = _git(worktree, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags", check=False)
    name = _git(worktree, "config", "user.name", check=False) or "Mesa agent"
    email = _git(worktree, "config", "user.email", check=False) or "agent@mesa.localhost"

    run_gitdir = scratch / "git"
    for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags"):
        (run_gitdir / sub).mkdir(parents=True, exist_ok=True)
    (run_gitdir / "objects/info/alternates").write_text(f"{OBJECTS}\n")
    (run_gitdir / "HEAD").write_text(f"ref: {head}\n" if head else f"{start}\n")
    (run_gitdir / "packed-refs").write_text("".join(f"{line}\n" for line in refs.splitlines() if line.strip()))
    if head:
        loose = run_gitdir / head
        loose.parent.mkdir(parents=True, exist_ok=True)
        loose.write_text(f"{start}\n")
    version, extensions = (
        ("1", f"[extensions]\n\tobjectformat = {object_format}\n") if object_format != "sha1" else ("0", "")
    )
    (run_gitdir / "config").write_text(
        f"[core]\n\trepositoryformatversion = {version}\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n"
        f"{extensions}[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n"
        f"[user]\n\tname = {_config_value(name)}\n\temail = {_config_value(email)}\n"
    )
    for name_ in ("index", "shallow"):
        source = (gitdir if name_ == "index" else common) / name_
        if source.is_file():
            shutil.copyfile(source, run_gitdir / name_)
    pointer = scratch / "dotgit"
    pointer.write_text(f"gitdir: {GITDIR}\n")
    pointer.chmod(0o444)
    os.lchown(pointer, uid, gid)  # git inside refuses a .git file owned by another user ("dubious ownership")
    for root, dirs, files in os.walk(run_gitdir):
        for entry in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.lchown(entry, uid, gid)
    return RunGit(
        worktree=worktree, common_dir=common, run_gitdir=run_gitdir, pointer=pointer, start=start, branch_ref=head
    )


def _config_value(value: str) -> str:
    cleaned = value.replace("\\", "").replace('"', "").replace("\n", " ")
    return f'"{cleaned}"'


def _tip(run_gitdir: Path, branch_ref: str) -> str:
    """The commit the run's copy of ``branch_ref`` names (its HEAD when ``branch_ref`` is ""); "" when unreadable.

    Whatever the agent checked out meanwhile, only the branch the run started on is brought back.
    """
    ref = branch_ref
    if not ref:
        head = _read_small(run_gitdir / "HEAD")
        return head if _SHA.match(head) else ""
    if not re.fullmatch(r"refs/heads/[A-Za-z0-9._/-]+", ref) or ".." in ref:
        return ""
    sha = _read_small(run_gitdir / ref)
    if not sha:
        for line in _read_small(run_gitdir / "packed-refs", limit=10_000_000).splitlines():
            parts = line.split(" ")
            if len(parts) == 2 and parts[1] == ref:
                sha = parts[0]
    return sha if _SHA.match(sha) else ""


def _read_small(path: Path, limit: int = 4096) -> str:
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return ""
        with path.open("rb") as handle:
            return handle.read(limit).decode("ascii", "replace").strip()
    except OSError:
        return ""


def _copy_objects(run_gitdir: Path, objects: Path) -> int:
    """Copy the run's new objects into the repository; regular files with object or pack names only."""
    source_root = run_gitdir / "objects"
    copied = 0
    for root, _dirs, files in os.walk(source_root):
        for name in files:
            source = Path(root) / name
            relative = source.relative_to(source_root).as_posix()
            if not _OBJECT_PATH.match(relative) or not stat.S_ISREG(source.lstat().st_mode):
                continue
            target = objects / relative
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.mesa-import")
            shutil.copyfile(source, partial)
            partial.chmod(0o444)
            partial.replace(target)
            copied += 1
    return copied


def import_commits(run_git: RunGit) -> str:
    """Bring the run's commits onto the worktree's branch; the new tip ("" when the agent made none).

    Raises :class:`GitImportError` when the run's HEAD names a commit that is not complete.
    """
    tip = _tip(run_git.run_gitdir, run_git.branch_ref)
    if not tip or tip == run_git.start:
        return ""
    _copy_objects(run_git.run_gitdir, run_git.common_dir / "objects")
    if _git(run_git.worktree, "cat-file", "-t", tip, check=False) != "commit":
        raise GitImportError(f"the run's HEAD {tip[:12]} is not a commit Mesa can read")
    # Every object the new commits reach must be present before the branch moves to them.
    _git(run_git.worktree, "rev-list", "--objects", "--quiet", tip, "--not", run_git.start)
    _git(run_git.worktree, "update-ref", "-m", "mesa: commits made in the run's container", "HEAD", tip, run_git.start)
    _git(run_git.worktree, "reset", "-q")  # the index follows the branch; the agent's files stay as they are
    return tip
