"""Git inside a container run (runners/sandboxes/gitdir.py), on the real engine of the ``engine`` fixture.

The test image carries the host's git (``tests/runners/conftest.py``). The run's worktree is a real linked
worktree of a repository on an issue branch, as ``runners.worktrees`` makes them.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from runners.models import Run, RunStatus
from runners.sandboxes.container import ContainerSandbox
from runners.worktrees import issue_branch_name
from tests.factories import make_agent, make_issue
from tests.runners.conftest import IMAGE, git, mesa_containers
from tests.runners.test_sandbox_container import ShellRunner, Sink, _run

pytestmark = pytest.mark.slow

BRANCH = "mesa/ISS-1"


@pytest.fixture
def worktree(repo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "worktrees" / "run-1"
    git(repo, "worktree", "add", "-q", "-b", BRANCH, str(path), "main")
    return path


def _texts(sink: Sink) -> list[str]:
    return [str(e.data.get("text", e.data.get("message", ""))).strip() for e in sink.events]


def test_it_commits_inside_and_the_commit_lands_on_the_issue_branch(
    engine: Any, repo: Path, worktree: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other-org-repo"
    other.mkdir()
    (other / "secret.txt").write_text("another org's code")
    start = git(repo, "rev-parse", BRANCH)
    script = "; ".join(
        [
            "cd /workspace",
            "echo built-in-a-box > feature.txt",
            "git status --short",
            "git add feature.txt && git commit -q -m 'From the box' && echo committed",
            "git log --format=%s -2",
            "git status --short | wc -l",
            f"cat {other}/secret.txt 2>/dev/null || echo other-repo-hidden",
            f"ls {repo}/.git 2>/dev/null || echo common-dir-hidden",
            "touch /run/mesa-git-objects/planted 2>/dev/null && echo objects-writable || echo objects-read-only",
            "echo 'gitdir: /tmp' > /workspace/.git 2>/dev/null && echo dotgit-writable || echo dotgit-read-only",
        ]
    )
    outcome, sink = _run(engine, worktree, script)
    texts = _texts(sink)
    assert outcome.exit_code == 0, (outcome, texts)
    assert "?? feature.txt" in texts  # git status inside sees the worktree
    assert "committed" in texts and texts[texts.index("committed") + 1 : texts.index("committed") + 3] == [
        "From the box",
        "initial",
    ]
    assert "other-repo-hidden" in texts and "another org's code" not in outcome.stdout
    assert "common-dir-hidden" in texts
    assert "objects-read-only" in texts and "dotgit-read-only" in texts
    # On the host: the commit is on the issue branch, the worktree is clean, its .git file unchanged.
    assert git(repo, "log", "--format=%s", "-1", BRANCH) == "From the box"
    assert git(repo, "rev-parse", f"{BRANCH}~1") == start
    assert git(repo, "show", f"{BRANCH}:feature.txt") == "built-in-a-box"
    assert git(worktree, "status", "--porcelain") == ""
    assert (worktree / ".git").read_text().startswith(f"gitdir: {repo}/.git/worktrees/")
    assert git(repo, "status", "--porcelain") == "" and not (repo / "feature.txt").exists()
    assert mesa_containers(engine) == []


def test_it_leaves_the_branch_alone_when_the_run_commits_nothing(engine: Any, repo: Path, worktree: Path) -> None:
    start = git(repo, "rev-parse", BRANCH)
    outcome, sink = _run(engine, worktree, "cd /workspace && echo draft > draft.txt && git status --short")
    assert outcome.exit_code == 0 and "?? draft.txt" in _texts(sink)
    assert git(repo, "rev-parse", BRANCH) == start
    assert git(worktree, "status", "--porcelain") == "?? draft.txt"  # left for Mesa's own commit


def test_it_refuses_a_head_whose_objects_are_missing(engine: Any, repo: Path, worktree: Path) -> None:
    start = git(repo, "rev-parse", BRANCH)
    forged = "1" * 40
    outcome, sink = _run(engine, worktree, f"echo {forged} > /run/mesa-git/refs/heads/{BRANCH}")
    assert outcome.exit_code == 0
    assert git(repo, "rev-parse", BRANCH) == start
    assert any("not kept" in text for text in _texts(sink))


def test_it_brings_back_only_the_branch_the_run_started_on(engine: Any, repo: Path, worktree: Path) -> None:
    start, main = git(repo, "rev-parse", BRANCH), git(repo, "rev-parse", "main")
    script = (
        "cd /workspace && git checkout -q main && git commit -q --allow-empty -m 'On main' && git log --format=%s -1"
    )
    outcome, sink = _run(engine, worktree, script)
    assert outcome.exit_code == 0 and "On main" in _texts(sink), (outcome, _texts(sink))
    assert git(repo, "rev-parse", BRANCH) == start and git(repo, "rev-parse", "main") == main


def test_it_needs_no_git_setup_for_a_plain_directory(engine: Any, tmp_path: Path) -> None:
    work = tmp_path / "plain"
    work.mkdir()
    ctx_sandbox = ContainerSandbox(client=engine, image=IMAGE)
    assert ctx_sandbox.image == IMAGE
    outcome, sink = _run(engine, work, "ls -a /run/mesa-git 2>/dev/null || echo no-run-git; ls -a /workspace")
    assert outcome.exit_code == 0 and "no-run-git" in _texts(sink)
    assert ShellRunner("x").name == "shell"


@pytest.mark.django_db(transaction=True)
def test_it_keeps_an_agents_commit_through_the_scheduler(
    org: Any, engine: Any, repo: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setenv("DOCKER_HOST", engine.mesa_url)
    settings.MESA_WORKER_IMAGE = IMAGE
    line = "cd /workspace && echo done > work.txt && git add work.txt && git commit -q -m 'Agent commit' && git status"
    agent = make_agent(org, slug="boxed", runner="command", sandbox="container", model=f"sh -c {shlex.quote(line)}")
    agent.working_dir = str(repo)  # the operator's setting (agents.services), set directly in this test
    agent.save(update_fields=["working_dir"])
    issue = make_issue(org, title="Commit from a box", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.COMPLETED, (run.failure_reason, run.stdout, run.stderr)
    assert "nothing to commit, working tree clean" in run.stdout
    branch = issue_branch_name(issue.key)
    assert git(repo, "log", "--format=%s", "-1", branch) == "Agent commit"  # the agent's own commit, not Mesa's
    assert "+done" in run.diff and "work.txt" in run.diff
