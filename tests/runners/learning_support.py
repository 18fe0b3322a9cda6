"""Helpers for the learning tests: agents whose dry_run answers are scripted (a file named in their env)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.models import Agent
from orgs.models import Org
from tests.factories import make_agent

JUDGE_OK = """Here is my evaluation.
```json
{"fidelity": {"score": 0.8, "reason": "Does what the issue asks"},
 "scope_drift": {"score": 0.1, "reason": "Stayed on the export"},
 "missed_criteria": {"score": 0.5, "reason": "The header row is missing"},
 "unrequested_changes": {"score": 0.0, "reason": "Nothing else touched"},
 "verdict": "Good export, but one criterion missed"}
```"""


def scripted_agent(org: Org, tmp_path: Path, slug: str, reply: str, **kw: Any) -> Agent:
    """A dry_run agent that answers ``reply`` in every run (``DRY_RUN_REPLY_FILE``)."""
    path = tmp_path / f"reply-{slug}.txt"
    path.write_text(reply)
    kw.setdefault("runner", "dry_run")
    return make_agent(org, slug=slug, env={"DRY_RUN_REPLY_FILE": str(path)}, **kw)
