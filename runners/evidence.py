"""Evidence of work that runners hold, registered with ``issues.guards`` in ``RunnersConfig.ready``."""

from __future__ import annotations

from issues.models import Issue
from runners.models import Run


def run_with_diff(issue: Issue) -> bool:
    """A run on the issue left a diff: the work changed files."""
    return Run.objects.filter(issue=issue).exclude(diff="").exists()
