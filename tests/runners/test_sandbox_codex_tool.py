"""Dual agent: Claude runs with Codex as an MCP tool (Mesa's Codex bridge over stdio), per agent.

Here: the ``--mcp-config`` arguments and the availability rule. The bridge itself, and the real claude
calling the real codex through it, are tested in test_codex_bridge.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from agents.services import agent_update
from orgs.actors import Actor
from runners.claude_code import CODEX_BRIDGE, ClaudeCodeRunner
from runners.sandboxes.base import sandbox_settings
from tests.factories import make_agent
from tests.runners.cli_support import make_ctx

OPERATOR = Actor.human(label="root", operator=True)


def _servers(argv: list[str]) -> dict[str, Any]:
    configs = [a.removeprefix("--mcp-config=") for a in argv if a.startswith("--mcp-config=")]
    assert len(configs) <= 1
    return json.loads(configs[0])["mcpServers"] if configs else {}


def test_it_adds_codex_next_to_mesas_server(tmp_path: Path) -> None:
    env = {"MESA_API_KEY": "mesa-run-key-4f2a", "MESA_MCP_URL": "http://127.0.0.1:9/mcp"}
    argv = ClaudeCodeRunner().command(make_ctx(tmp_path, env=env, extra={"codex_mcp": True}))
    servers = _servers(argv)
    # A host run: the bridge with Mesa's own Python, runners/ kept off its sys.path (-I).
    assert servers["codex"] == {"type": "stdio", "command": sys.executable, "args": ["-I", str(CODEX_BRIDGE)]}
    assert servers["mesa"]["type"] == "http" and servers["mesa"]["url"] == "http://127.0.0.1:9/mcp"
    assert "mesa-run-key-4f2a" not in json.dumps(servers)  # the run key stays a variable reference

    assert set(_servers(ClaudeCodeRunner().command(make_ctx(tmp_path, env=env)))) == {"mesa"}
    alone = ClaudeCodeRunner().command(make_ctx(tmp_path, extra={"codex_mcp": True}))  # no run key: no Mesa server
    assert set(_servers(alone)) == {"codex"}


def test_it_starts_the_images_copy_of_the_bridge_in_a_container(tmp_path: Path) -> None:
    for sandbox in ("container", "worker"):
        argv = ClaudeCodeRunner().command(make_ctx(tmp_path, extra={"codex_mcp": True, "mesa_sandbox": sandbox}))
        assert _servers(argv)["codex"] == {"type": "stdio", "command": "/usr/local/bin/mesa-codex-mcp", "args": []}
    host = ClaudeCodeRunner().command(make_ctx(tmp_path, extra={"codex_mcp": True, "mesa_sandbox": "host"}))
    assert _servers(host)["codex"]["command"] == sys.executable


@pytest.mark.django_db
def test_it_turns_codex_on_only_when_codex_credentials_are_within_reach(
    org: Any, tmp_path: Path, settings: Any
) -> None:
    settings.MESA_CREDENTIALS_HOME = str(tmp_path / "home")
    agent = make_agent(org, slug="dual", runner="claude_code", sandbox="container")
    assert "codex_mcp" not in sandbox_settings(agent, {"OPENAI_API_KEY": "sk"})  # not asked for
    agent_update(actor=OPERATOR, agent=agent, codex_mcp=True)
    agent.refresh_from_db()
    assert sandbox_settings(agent, {})["codex_mcp"] is False  # no key, no login
    assert sandbox_settings(agent, {"OPENAI_API_KEY": "sk"})["codex_mcp"] is True
    (tmp_path / "home" / ".codex").mkdir(parents=True)
    (tmp_path / "home" / ".codex" / "auth.json").write_text("{}")
    assert sandbox_settings(agent, {})["codex_mcp"] is False  # a container run gets the login only if chosen
    agent_update(actor=OPERATOR, agent=agent, credential_mounts=["codex"])
    agent.refresh_from_db()
    assert sandbox_settings(agent, {})["codex_mcp"] is True
