"""The prompt's branch section: which branch the run works on, what it ships into, what it holds so far."""

from __future__ import annotations

from issues.models import Issue
from runners.branches import branch_summary, issue_branch

STAT_MAX = 3_000


def branch_section(issue: Issue | None) -> str:
    """Branch, base, the short log of the branch's commits and its diff stat; "" before the first run."""
    record = issue_branch(issue) if issue is not None else None
    if record is None:
        return ""
    summary, _ = branch_summary(record)
    lines = [
        f"BRANCH: you work on {record.name} (your current directory is a worktree of it); "
        f"it ships into {record.target} when the issue is done.",
        "Earlier runs on this issue (the author's, reviews, rework) committed here: their work is in front of you.",
        "Commit as you go; Mesa commits whatever you leave uncommitted when the run ends.",
    ]
    if record.ship_state == "conflict":
        lines.append(
            f"Merging into {record.target} conflicted ({record.ship_detail}): the issue is blocked. "
            f"Move it to in_progress, rebase on {record.target} (git rebase {record.target}), resolve, "
            "run the tests, then move it to in_review again."
        )
    if not summary.exists:
        return "\n".join(lines)
    lines.append(f"Ahead of {record.target} by {summary.ahead} commit(s), behind by {summary.behind}.")
    if summary.log:
        lines += ["Commits so far (newest first):", *(f"  {line}" for line in summary.log)]
    if summary.stat:
        stat = summary.stat if len(summary.stat) <= STAT_MAX else summary.stat[:STAT_MAX] + "\n  …"
        lines += [f"Diff stat against {record.target}:", stat]
    return "\n".join(lines)
