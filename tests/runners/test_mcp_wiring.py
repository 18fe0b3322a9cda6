"""Mesa's MCP server handed to the CLIs: the URL from the run's environment, the key only by its variable name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runners.claude_code import ClaudeCodeRunner
from runners.codex import CodexRunner
from runners.gemini import GeminiRunner
from runners.opencode import OpenCodeRunner
from runners.prompt import prompt_build
from tests.factories import make_agent, make_issue
from tests.runners.cli_support import make_ctx

KEY = "mesa_run_secret-value-1234"
URL = "http://127.0.0.1:3001/mcp"


def _ctx(tmp_path: Path, **env: str) -> Any:
    return make_ctx(tmp_path, env={"MESA_API_KEY": KEY, "MESA_MCP_URL": URL, **env})


def test_it_gives_claude_the_mesa_server_inline_with_the_key_left_to_expand(tmp_path: Path) -> None:
    argv = ClaudeCodeRunner().command(_ctx(tmp_path))
    assert KEY not in " ".join(argv)
    config = json.loads(next(a for a in argv if a.startswith("--mcp-config=")).removeprefix("--mcp-config="))
    assert config == {
        "mcpServers": {"mesa": {"type": "http", "url": URL, "headers": {"Authorization": "Bearer ${MESA_API_KEY}"}}}
    }


def test_it_gives_codex_the_mesa_server_with_the_bearer_from_the_environment(tmp_path: Path) -> None:
    argv = CodexRunner().command(_ctx(tmp_path))
    assert KEY not in " ".join(argv)
    assert f'mcp_servers.mesa.url="{URL}"' in argv
    assert 'mcp_servers.mesa.bearer_token_env_var="MESA_API_KEY"' in argv


def test_it_adds_the_mesa_server_to_the_opencode_config_the_agent_passes(tmp_path: Path) -> None:
    own = {"provider": {"anthropic": {"options": {"apiKey": "x"}}}, "mcp": {"other": {"type": "local"}}}
    env = OpenCodeRunner().env(_ctx(tmp_path, OPENCODE_CONFIG_CONTENT=json.dumps(own)))
    assert KEY not in env["OPENCODE_CONFIG_CONTENT"]
    config = json.loads(env["OPENCODE_CONFIG_CONTENT"])
    assert config["provider"] == own["provider"] and config["mcp"]["other"] == {"type": "local"}
    assert config["mcp"]["mesa"] == {
        "type": "remote",
        "url": URL,
        "headers": {"Authorization": "Bearer {env:MESA_API_KEY}"},
    }


def test_it_configures_no_mcp_server_without_a_run_key(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, env={"MESA_MCP_URL": URL})
    assert not any(a.startswith("--mcp-config") for a in ClaudeCodeRunner().command(ctx))
    assert "OPENCODE_CONFIG_CONTENT" not in OpenCodeRunner().env(ctx)
    assert not GeminiRunner.mcp  # gemini takes MCP servers only from a settings file: not wired


@pytest.mark.django_db
def test_it_teaches_the_mesa_tools_instead_of_curl_to_runners_that_have_them(org: Any) -> None:
    issue = make_issue(org, title="Ship it")
    with_mcp = make_agent(org, runner="claude_code")
    without = make_agent(org, runner="noop")
    taught = prompt_build(agent=with_mcp, issue=issue, mode="task").task
    assert "use the mesa tools" in taught and "curl -s" not in taught
    plain = prompt_build(agent=without, issue=issue, mode="task").task
    assert "mesa tools" not in plain and "curl -s" in plain
