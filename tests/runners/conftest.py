from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _runner_dirs(settings: Any, tmp_path: Path) -> None:
    """Worktrees and workspaces of test runs live in the test's tmp dir; short kill grace."""
    settings.MESA_WORKTREES_DIR = str(tmp_path / "worktrees")
    settings.MESA_WORKSPACES_DIR = str(tmp_path / "workspaces")
    settings.MESA_KILL_GRACE_S = 1
    settings.MESA_MAX_RUNS = 4
    settings.MESA_MAX_RUNS_PER_AGENT = 1
    settings.MESA_RETRY_DELAY_S = 3600  # automatic retries wait unless a test wants them


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with one commit on branch main."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "Test")
    (path / "README.md").write_text("hello\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "initial")
    return path


def script(tmp_path: Path, name: str, body: str) -> Path:
    """An executable Python script (the `command` runner's fake CLI)."""
    path = tmp_path / "bin" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path
