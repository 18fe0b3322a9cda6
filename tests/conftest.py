from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

TEST_INSTANCE = f"tests-{os.getpid()}"


@pytest.fixture(autouse=True)
def _isolated_dirs(settings: Any, tmp_path: Path) -> None:
    """Archetype overrides and extra templates never touch the developer's real directories."""
    settings.MESA_ARCHETYPES_DIR = str(tmp_path / "archetype-overrides")
    settings.MESA_TEMPLATES_DIR = ""
    # Local mode's login link is tested where it is the subject (tests/security/test_local_login.py); other page
    # tests act as the person at the machine who already opened it.
    settings.MESA_LOCAL_LOGIN = False
    settings.MESA_LOCAL_LOGIN_FILE = str(tmp_path / "local-login.sha256")
    settings.MESA_TERMINALS_DIR = str(tmp_path / "terminals")
    # Repositories, worktrees and agent homes of in-process runs: never the checkout's var/.
    settings.MESA_REPOS_DIR = str(tmp_path / "repos")
    settings.MESA_WORKTREES_DIR = str(tmp_path / "worktrees")
    settings.MESA_WORKSPACES_DIR = str(tmp_path / "workspaces")
    # New agents run on the host unless a test asks for a container (an engine may answer on a dev machine).
    settings.MESA_SANDBOX_DEFAULT = "host"
    settings.MESA_ALLOW_HOST_RUNS = True
    # This test session's containers: other sessions (or Mesas) sharing the engine are never touched.
    settings.MESA_INSTANCE_ID = TEST_INSTANCE


@pytest.fixture
def org(db: None) -> Any:
    from tests.factories import make_org

    return make_org(name="Acme", slug="acme", issue_prefix="ACME")


@pytest.fixture
def same_utc_day() -> None:
    """Budgets and usage count from midnight UTC: a test that makes spend and then checks it must not
    straddle midnight (the spend would land on yesterday). Near midnight, wait until the day has turned."""
    import time
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    if midnight - now < timedelta(minutes=2):
        time.sleep((midnight - now).total_seconds() + 0.5)
