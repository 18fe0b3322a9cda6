"""GET /issues/{key}/workspace: the issue's branch against its target, and the active run's uncommitted files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.models import Agent
from orgs.models import Org
from runners.branches import issue_workspace
from runners.execution import execute_run
from runners.models import Run, RunStatus
from runners.services import run_enqueue
from tests.factories import make_issue
from tests.runners.conftest import git, script

WRITE = """
with open('feature.txt', 'w') as fh:
    fh.write('done\\n')
"""


def test_it_answers_the_branch_its_commits_and_the_active_runs_dirty_files(
    call: Any, api_org: Org, engineer: Agent, board_key: str, agent_key: Any, tmp_path: Path, outsider: Agent
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.email=t@e", "-c", "user.name=T", "commit", "-q", "--allow-empty", "-m", "initial")
    Agent.objects.filter(pk=engineer.pk).update(
        runner="command", model=str(script(tmp_path, "agent", WRITE)), working_dir=str(repo)
    )
    engineer.refresh_from_db()
    issue = make_issue(api_org, title="Workspace", assignee=engineer)
    assert call("GET", f"issues/{issue.key}/workspace", board_key).json()["code"] == "no_workspace"

    run = run_enqueue(agent=engineer, issue=issue, mode="task").run
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    assert execute_run(run.pk) == RunStatus.COMPLETED

    answer = call("GET", f"issues/{issue.key}/workspace", agent_key(engineer))
    assert answer.status_code == 200, answer.content
    state = answer.json()
    assert (state["branch"], state["target"], state["ahead"], state["behind"]) == (f"mesa/{issue.key}", "main", 1, 0)
    assert "feature.txt" in state["stat"] and len(state["log"]) == 1
    assert state["run_id"] is None and state["dirty"] == []

    # A run at work: its worktree's uncommitted files are listed.
    second = run_enqueue(agent=engineer, issue=issue, mode="task").run
    workspace = issue_workspace(agent=engineer, run=second, issue=issue)
    Run.objects.filter(pk=second.pk).update(status=RunStatus.RUNNING, worktree_path=workspace.worktree_path)
    (workspace.cwd / "scratch.txt").write_text("wip\n")
    state = call("GET", f"issues/{issue.key}/workspace", board_key).json()
    assert state["run_id"] == second.pk and state["dirty"] == ["?? scratch.txt"]

    # Another org's key does not learn that the issue exists.
    assert call("GET", f"issues/{issue.key}/workspace", agent_key(outsider)).status_code == 404
