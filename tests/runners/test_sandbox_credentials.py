"""Per-agent container settings: CLI logins (credential sets) and the image, on the real engine where it matters.

The credential files live in a scratch home (``MESA_CREDENTIALS_HOME``), never the tester's.
"""

from __future__ import annotations

import json
import tempfile
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from agents.keys import key_create
from agents.models import AgentVersion, KeyKind
from agents.services import agent_update
from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput
from runners.readiness import agent_problem
from runners.sandboxes.base import sandbox_settings
from tests.factories import SYSTEM, make_agent, make_org
from tests.runners.conftest import IMAGE
from tests.runners.test_sandbox_container import _run

OPERATOR = Actor.human(label="root", operator=True)
LOGIN = '{"claudeAiOauth": {"accessToken": "sk-ant-oat-test"}}'


@pytest.fixture
def cli_home(tmp_path: Path, settings: Any) -> Path:
    home = tmp_path / "operator-home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / ".credentials.json").write_text(LOGIN)
    (home / ".claude" / "history.jsonl").write_text("another project's history")
    (home / ".claude.json").write_text('{"hasCompletedOnboarding": true}')
    (home / ".codex").mkdir()
    (home / ".codex" / "auth.json").write_text('{"OPENAI_API_KEY": "sk-codex-test"}')
    settings.MESA_CREDENTIALS_HOME = str(home)
    return home


@pytest.mark.slow
def test_it_gives_a_container_run_a_read_only_copy_of_the_chosen_logins(
    engine: Any, cli_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the run's scratch dir (and copies) go
    work = tmp_path / "work"
    work.mkdir()
    script = "; ".join(
        [
            'cat "$HOME/.claude/.credentials.json"; echo',
            'cat "$HOME/.claude.json"; echo',
            'ls "$HOME/.claude/history.jsonl" 2>/dev/null || echo no-history',
            'ls "$HOME/.codex" 2>/dev/null || echo no-codex',
            "echo forged > /run/mesa/credentials/.claude/.credentials.json 2>/dev/null && echo mount-writable"
            " || echo mount-read-only",
            'echo refreshed > "$HOME/.claude/.credentials.json" && echo home-copy-writable',
        ]
    )
    outcome, sink = _run(engine, work, script, credential_mounts=["claude"])
    texts = [e.data["text"].strip() for e in sink.events]
    assert outcome.exit_code == 0, (outcome, texts)
    assert texts[:2] == [LOGIN, '{"hasCompletedOnboarding": true}']
    assert "no-history" in texts and "no-codex" in texts  # only the login files of the chosen sets
    assert "mount-read-only" in texts and "home-copy-writable" in texts
    assert (cli_home / ".claude" / ".credentials.json").read_text() == LOGIN  # the host's file never changes
    assert list(scratch.iterdir()) == []  # the copies went with the run's scratch dir


@pytest.mark.slow
def test_it_gives_no_logins_when_none_is_chosen(engine: Any, cli_home: Path, tmp_path: Path) -> None:
    script = 'ls -a "$HOME"; ls /run/mesa/credentials 2>/dev/null || echo no-credentials'
    outcome, sink = _run(engine, tmp_path, script)
    texts = [e.data["text"].strip() for e in sink.events]
    assert outcome.exit_code == 0 and "no-credentials" in texts
    assert ".claude" not in texts and ".codex" not in texts and "sk-ant-oat-test" not in outcome.stdout


@pytest.mark.slow
def test_it_runs_the_agents_own_image(engine: Any, tmp_path: Path) -> None:
    engine.images.get(IMAGE).tag("localhost/mesa-test-own-image", "v1")
    try:
        outcome, sink = _run(engine, tmp_path, "echo ran", image="localhost/mesa-test-own-image:v1")
        assert outcome.exit_code == 0 and [e.data["text"].strip() for e in sink.events] == ["ran"]
        outcome, _ = _run(engine, tmp_path, "echo ran", image="localhost/mesa-test-no-such-image:v1")
        assert outcome.setup_error and "could not create the container" in (outcome.failure_reason or "")
    finally:
        engine.images.remove("localhost/mesa-test-own-image:v1")


def _board_key(org: Any) -> str:
    _, raw = key_create(actor=SYSTEM, org=org, kind=KeyKind.BOARD, name="tests")
    return raw


@pytest.mark.parametrize(
    "change", [{"credential_mounts": ["claude"]}, {"container_image": "docker.io/evil/image:latest"}]
)
def test_it_refuses_logins_and_images_to_a_board_key(db: None, client: Client, change: dict[str, Any]) -> None:
    org = make_org(name="Org B", slug="org-b", issue_prefix="OB")
    agent = make_agent(org, slug="worker", runner="claude_code", sandbox="container")
    versions = AgentVersion.objects.count()
    r = client.patch(
        "/api/v1/agents/worker",
        data=json.dumps(change),
        content_type="application/json",
        headers={"authorization": f"Bearer {_board_key(org)}"},
    )
    assert r.status_code == 403, r.content
    assert r.json()["code"] == "operator_only" and "instance operator" in r.json()["error"]
    agent.refresh_from_db()
    assert agent.credential_mounts == [] and agent.container_image == ""
    assert AgentVersion.objects.count() == versions


def test_it_lets_the_operator_choose_logins_and_image_and_anyone_drop_them(db: None) -> None:
    org = make_org(name="Org B", slug="org-b", issue_prefix="OB")
    agent = make_agent(org, slug="worker", runner="claude_code", sandbox="container")
    with pytest.raises(Forbidden):
        agent_update(actor=Actor.human(label="member"), agent=agent, credential_mounts=["codex"])
    agent_update(actor=OPERATOR, agent=agent, credential_mounts=["codex", "claude"], container_image="localhost/x:1")
    agent.refresh_from_db()
    assert agent.credential_mounts == ["claude", "codex"] and agent.container_image == "localhost/x:1"
    assert sandbox_settings(agent, {}) == {"credential_mounts": ["claude", "codex"], "image": "localhost/x:1"}
    agent_update(actor=Actor.human(label="member"), agent=agent, credential_mounts=["claude"])  # fewer is safe
    agent.refresh_from_db()
    assert agent.credential_mounts == ["claude"]
    with pytest.raises(InvalidInput):
        agent_update(actor=OPERATOR, agent=agent, credential_mounts=["ssh"])
    with pytest.raises(InvalidInput):
        agent_update(actor=OPERATOR, agent=agent, container_image="--privileged")


@pytest.mark.slow
@pytest.mark.django_db
def test_it_shows_per_agent_whether_its_image_is_present(
    engine: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setenv("DOCKER_HOST", engine.mesa_url)
    settings.MESA_WORKER_IMAGE = IMAGE
    org = make_org(name="Org B", slug="org-b", issue_prefix="OB")
    make_agent(org, slug="default-image", runner="claude_code", sandbox="container")
    own = make_agent(org, slug="own-image", runner="claude_code", sandbox="container")
    agent_update(actor=OPERATOR, agent=own, container_image="localhost/mesa-test-missing:v1")
    out = StringIO()
    call_command("doctor", "--json", stdout=out)
    rows = {row["agent"]: row for row in json.loads(out.getvalue())["agents"]}
    assert rows["default-image"]["image"] == IMAGE and rows["default-image"]["image_present"] is True
    assert rows["default-image"]["problem"] == ""
    assert rows["own-image"]["image_present"] is False
    own.refresh_from_db()
    assert "its container image localhost/mesa-test-missing:v1 is not on the engine" in agent_problem(own)
    assert rows["own-image"]["problem"] == agent_problem(own)
