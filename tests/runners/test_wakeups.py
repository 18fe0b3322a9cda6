"""Wake-ups between processes (runners/wakeups/): a write in one process wakes a scheduler in another.

The scheduler process polls only once an hour (``MESA_SCHEDULER_POLL_S=3600``) and the writer's
local wake socket points elsewhere, so a run that completes after the write can only have been
started by the variant under test (PostgreSQL LISTEN/NOTIFY, Redis pub/sub): an ordering fact,
not a timing. The writer calls the services exactly as a web worker's request does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runners import wakeups
from runners.wakeups import redis as redis_wakeups
from tests.orgs.postgres import REPO, pg_database, run_mesa_script

REDIS = os.environ.get("MESA_TEST_REDIS", "redis://127.0.0.1:6379/0")

SEED = """
import json
from agents.services import agent_create
from orgs.actors import Actor
from orgs.services import org_create
actor = Actor.system("test")
org = org_create(actor=actor, name="Wake", slug="wake", issue_prefix="WK")
agent_create(actor=actor, org=org, slug="noop", runner="noop")
print(json.dumps({"ok": True}))
"""

# The "web process": waits until the scheduler has started (its first beat: its listener is already
# open by then), writes one assignment, then watches the run.
WRITER = """
import json, time
from agents.models import Agent
from issues.services import issue_create
from orgs.actors import Actor
from orgs.models import Org
from runners.models import Run, SchedulerState
from runners.wakeups import variant_name
deadline = time.monotonic() + 60
while not SchedulerState.objects.filter(beat_at__isnull=False).exists():
    assert time.monotonic() < deadline, "the scheduler did not start"
    time.sleep(0.05)
issue = issue_create(actor=Actor.system("web"), org=Org.objects.get(slug="wake"), title="Wake up",
                     assignee=Agent.objects.get(slug="noop"))
deadline = time.monotonic() + 60
while not Run.objects.filter(issue=issue, status="completed").exists() and time.monotonic() < deadline:
    time.sleep(0.02)
run = Run.objects.filter(issue=issue).first()
print(json.dumps({"variant": variant_name(), "status": run.status if run else None}))
"""


def _woken(url: str, tmp_path: Path, **env: str) -> Any:
    scratch: dict[str, Any] = {
        "MESA_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "MESA_WORKTREES_DIR": str(tmp_path / "worktrees"),
        **env,
    }
    run_mesa_script(url, SEED, **scratch)
    sched_env = {
        **os.environ,
        **scratch,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "mesa.settings",
        "SECRET_KEY": "test-only-not-secret",
        "MESA_LOG_LEVEL": "WARNING",
        "MESA_SCHEDULER_POLL_S": "3600",  # it never polls during the test: only a wake-up moves it
        "MESA_SCHEDULER_SOCKET": str(tmp_path / "scheduler.wake"),
    }
    scheduler = subprocess.Popen(
        [sys.executable, "manage.py", "scheduler"],
        cwd=REPO,
        env=sched_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The writer's local socket is somewhere else: the datagram path cannot carry this wake-up.
        return run_mesa_script(url, WRITER, MESA_SCHEDULER_SOCKET=str(tmp_path / "nobody.wake"), **scratch)
    finally:
        scheduler.terminate()
        try:
            scheduler.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            scheduler.kill()
            scheduler.communicate()


@pytest.mark.postgres
def test_it_wakes_a_scheduler_process_through_listen_notify_on_postgres(tmp_path: Path) -> None:
    with pg_database() as url:
        out = _woken(url, tmp_path)
    assert out["variant"] == "postgres"
    assert out["status"] == "completed"


def test_it_wakes_a_scheduler_process_through_redis_pub_sub(tmp_path: Path) -> None:
    host = REDIS.split("//", 1)[1].split("/", 1)[0]
    try:
        socket.create_connection((host.rsplit(":", 1)[0], int(host.rsplit(":", 1)[1])), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS} ({exc}); set MESA_TEST_REDIS to point at one")
    out = _woken(f"sqlite:///{tmp_path / 'mesa.db'}", tmp_path, MESA_REDIS_URL=REDIS)
    assert out["variant"] == "redis"
    assert out["status"] == "completed"


def test_it_picks_the_variant_from_the_settings(settings: Any) -> None:
    settings.MESA_WAKEUPS = ""
    settings.MESA_REDIS_URL = ""
    assert wakeups.variant_name() == "local"  # SQLite, no Redis
    settings.MESA_REDIS_URL = "redis://127.0.0.1:6379/0"
    assert wakeups.variant_name() == "redis"
    settings.MESA_WAKEUPS = "local"
    assert wakeups.variant_name() == "local"
    settings.MESA_WAKEUPS = "carrier-pigeon"
    with pytest.raises(ValueError, match="MESA_WAKEUPS"):
        wakeups.variant_name()


def test_it_speaks_resp_to_redis() -> None:
    assert (
        redis_wakeups.command("PUBLISH", "mesa:wake:x", "1")
        == b"*3\r\n$7\r\nPUBLISH\r\n$11\r\nmesa:wake:x\r\n$1\r\n1\r\n"
    )
