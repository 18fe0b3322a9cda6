from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runners.branches import branch_summary, issue_branch
from runners.execution import execute_run
from runners.models import RunStatus
from runners.services import run_enqueue
from tests.factories import make_agent, make_issue
from tests.runners.conftest import git, script

pytestmark = pytest.mark.django_db

# A fake agent CLI (the `command` runner): appends its run id to work.txt and lists what it saw.
AGENT = """
import os, pathlib
seen = sorted(p.name for p in pathlib.Path('.').iterdir() if not p.name.startswith('.'))
print('saw ' + ' '.join(seen))
with open('work.txt', 'a') as fh:
    fh.write('run ' + os.environ['MESA_RUN_ID'] + '\\n')
"""


def _run(agent: Any, issue: Any, mode: str = "task") -> Any:
    run = run_enqueue(agent=agent, issue=issue, mode=mode).run
    type(run).objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    assert execute_run(run.pk) == RunStatus.COMPLETED
    run.refresh_from_db()
    return run


def test_it_runs_every_run_of_an_issue_on_its_branch_with_its_own_commit_range(
    org: Any, repo: Path, tmp_path: Path
) -> None:
    cli = script(tmp_path, "agent", AGENT)
    dev = make_agent(org, slug="dev", runner="command", model=str(cli), working_dir=str(repo))
    qa = make_agent(org, slug="qa", runner="command", model=str(cli), working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)

    first = _run(dev, issue)
    review = _run(qa, issue, mode="review")

    assert first.branch == review.branch == f"mesa/{issue.key}"
    assert review.start_sha == first.end_sha != first.start_sha
    assert f"+run {first.pk}" in first.diff and f"+run {review.pk}" not in first.diff
    assert f"+run {review.pk}" in review.diff and f"+run {first.pk}" not in review.diff
    events = "".join(e.data.get("text", "") for e in review.events.all())
    assert "work.txt" in events  # the reviewer saw the author's work in its worktree
    assert git(repo, "log", "-1", "--format=%s", first.branch) == f"mesa: uncommitted changes left by run {review.pk}"
    record = issue_branch(issue)
    assert record is not None and record.target == "main"
    summary, patch = branch_summary(record, patch=True)
    assert (summary.ahead, summary.behind) == (2, 0) and "work.txt" in summary.stat and "+run" in patch
    assert git(repo, "status", "--porcelain") == ""


def test_it_cuts_a_sub_issue_branch_from_its_parents_branch(org: Any, repo: Path, tmp_path: Path) -> None:
    cli = script(tmp_path, "agent", AGENT)
    dev = make_agent(org, slug="dev", runner="command", model=str(cli), working_dir=str(repo))
    parent = make_issue(org, title="Epic")
    child = make_issue(org, title="Part", assignee=dev, parent=parent)

    _run(dev, child)

    record = issue_branch(child)
    assert record is not None and record.target == f"mesa/{parent.key}"
    assert git(repo, "rev-parse", f"mesa/{parent.key}") == git(repo, "rev-parse", "main")


def test_it_names_the_branch_base_commits_and_diff_stat_in_the_prompt(org: Any, repo: Path, tmp_path: Path) -> None:
    cli = script(tmp_path, "agent", AGENT)
    dev = make_agent(org, slug="dev", runner="command", model=str(cli), working_dir=str(repo))
    qa = make_agent(org, slug="qa", runner="command", model=str(cli), working_dir=str(repo))
    issue = make_issue(org, title="Feature", assignee=dev)
    first = _run(dev, issue)
    assert "Ahead of main by 0 commit(s)" in first.prompt  # the first run starts the branch

    review = _run(qa, issue, mode="review")

    assert f"you work on mesa/{issue.key}" in review.prompt and "ships into main" in review.prompt
    assert "Ahead of main by 1 commit(s), behind by 0." in review.prompt
    assert f"uncommitted changes left by run {first.pk}" in review.prompt  # the short log
    assert "work.txt | 1 +" in review.prompt  # the diff stat
