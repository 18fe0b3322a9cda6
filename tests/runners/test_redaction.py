"""What a run redacts: every value Mesa injects (whatever its name) but not the harmless ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notifications.services import channel_create
from orgs.actors import Actor
from runners.run_env import secrets_of
from tests.factories import make_agent

SYSTEM = Actor.system("tests")
pytestmark = pytest.mark.django_db


def test_it_treats_every_injected_value_as_secret_except_harmless_ones(org: Any, tmp_path: Path) -> None:
    agent = make_agent(org, slug="dev", env={"GREETING": "hello-world-1"})
    env = {
        "DEPLOY_PWD": "hunter2-deploy",  # no KEY/TOKEN in the name: still a secret
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "WORKDIR": str(tmp_path),  # an existing path
        "RETRIES": "123456789",
        "MESA_AGENT_SLUG": "dev-agent",
        "MESA_API_KEY": "mesa_run_abc123",
    }
    values = secrets_of(agent, "mesa_run_abc123", env)
    assert {"hunter2-deploy", "hello-world-1", "mesa_run_abc123"} <= set(values)
    assert not {"/usr/bin:/bin", str(tmp_path), "123456789", "dev-agent"} & set(values)


def test_it_includes_the_orgs_stored_secrets(org: Any) -> None:
    other = make_agent(org, slug="other", env={"X": "other-agents-secret"})
    channel_create(actor=SYSTEM, org=org, kind="discord", secret="https://discord.com/api/webhooks/1/stored-hook-token")
    values = secrets_of(make_agent(org, slug="dev"), "mesa_run_abc123", {})
    assert "other-agents-secret" in values and "https://discord.com/api/webhooks/1/stored-hook-token" in values
    assert other.pk
