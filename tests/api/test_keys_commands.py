from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from agents.models import Agent, ApiKey, KeyKind
from orgs.models import Org


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_it_prints_a_working_agent_key(call: Any, api_org: Org, engineer: Agent) -> None:
    raw = _run("agent-key", "engineer", "--org", "api-org", "--expires", "1d")
    assert raw.startswith("mesa_agent_") and len(raw) > 40
    key = ApiKey.objects.get(prefix=raw[:14])
    assert key.kind == KeyKind.AGENT and key.agent == engineer and key.digest != raw
    assert key.expires_at is not None
    assert timedelta(hours=23) < key.expires_at - timezone.now() <= timedelta(days=1)
    assert call("GET", "agents/me", raw).json()["slug"] == "engineer"


def test_it_prints_a_working_board_key(call: Any, api_org: Org, engineer: Agent) -> None:
    raw = _run("board-key", "--org", "api-org")
    assert raw.startswith("mesa_board_")
    r = call("POST", "agents/engineer/pause", raw)
    assert r.status_code == 200 and r.json()["status"] == "paused"


def test_it_refuses_unknown_agents_and_bad_durations(api_org: Org, engineer: Agent) -> None:
    with pytest.raises(CommandError):
        _run("agent-key", "ghost", "--org", "api-org")
    with pytest.raises(CommandError):
        _run("agent-key", "engineer", "--org", "api-org", "--expires", "soon")
    with pytest.raises(CommandError):
        _run("board-key", "--org", "nope")
