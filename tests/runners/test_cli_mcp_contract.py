"""Contract tests: the REAL claude and opencode CLIs call a Mesa MCP tool, and the effect lands in Mesa.

Inside ``unshare -n`` (only a loopback device) run a real Mesa under daphne on a fresh SQLite
database, the fake Anthropic API scripted to ask for ``mcp__mesa__comment_create``, and the pinned
CLI started by its runner with the run's environment (``MESA_MCP_URL``,
``MESA_API_KEY``). The comment must exist afterwards, written by the run's agent, and the key must
be nowhere in the command line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from runners.base import RunContext
from runners.claude_code import ClaudeCodeRunner
from runners.executor import SubprocessRunner
from runners.opencode import OpenCodeRunner
from tests.browser.server import REPO, prepare_db, run_python
from tests.runners.cli_support import RecordingSink
from tests.runners.test_cli_contract import CLI_BIN, FAKES, SYSTEM_PATH, _require

pytestmark = pytest.mark.cli

API_PORT, MESA_PORT = 8788, 8789
SETUP = """
from agents.keys import run_key_create
from agents.models import Agent
from issues.services import issue_create
from orgs.actors import Actor
from runners.models import Run
agent = Agent.objects.get(slug="founding-engineer")
issue = issue_create(actor=Actor.system("test"), org=agent.org, title="Say hello over MCP", assignee=agent)
run = Run.objects.create(org=agent.org, agent=agent, issue=issue, status="running")
print(issue.key, run_key_create(org=agent.org, agent=agent, run_id=run.pk, timeout_s=600))
"""
COMMENTS = """
from issues.models import Comment
for c in Comment.objects.filter(issue__key={key!r}).exclude(kind="system"):
    print(c.author_agent.slug if c.author_agent else "-", c.body)
"""


def _prefix(db: Path, log: Path, ready: Path, daphne_log: Path) -> list[str]:
    """argv that starts Mesa (daphne) and the fake API in a fresh network namespace, then the CLI."""
    mesa = (
        f"DJANGO_SETTINGS_MODULE=mesa.settings DATABASE_URL=sqlite:///{db} MESA_LOCAL_LOGIN=0 "
        f"MESA_LOG_LEVEL=WARNING PYTHONUNBUFFERED=1"
    )
    probe = f"import http.client as h; c = h.HTTPConnection('127.0.0.1', {MESA_PORT}, timeout=1); c.request('GET', '/')"
    script = (
        "ip link set lo up || exit 97; "
        f'(cd "{REPO}" && exec env {mesa} "{sys.executable}" -m daphne -b 127.0.0.1 -p {MESA_PORT} '
        f'mesa.asgi:application >"{daphne_log}" 2>&1) & '
        f'"{sys.executable}" "{FAKES / "anthropic_api.py"}" {API_PORT} "{log}" "{ready}" >/dev/null 2>&1 & '
        f'i=0; until [ -e "{ready}" ]; do i=$((i+1)); [ $i -gt 200 ] && exit 98; sleep 0.05; done; '
        f'i=0; until "{sys.executable}" -c "{probe}" 2>/dev/null; do i=$((i+1)); [ $i -gt 120 ] && exit 96; '
        "sleep 0.25; done; "
        'exec "$@"'
    )
    return ["unshare", "-n", "sh", "-c", script, "mesa-mcp-contract"]


def _call_a_tool(
    runner: SubprocessRunner,
    tmp_path: Path,
    *,
    tool: str,
    model: str,
    env: dict[str, str],
) -> tuple[Path, str, str, Any, RecordingSink, str]:
    """Run ``runner``'s real CLI with the fake model asking for Mesa's comment tool under the name ``tool``."""
    db = prepare_db(tmp_path)
    issue_key, run_key = run_python(db, SETUP).split()
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    log, ready, daphne_log = tmp_path / "api-log.jsonl", tmp_path / "api-ready", tmp_path / "daphne.log"
    body = "Hello from claude, through the mesa tools."
    ctx = RunContext(
        run_id=1,
        agent_slug="founding-engineer",
        model=model,
        prompt=f"Comment on {issue_key} with the mesa tools.",
        system_prompt="You are the founding engineer.",
        cwd=work,
        env={
            "PATH": f"{CLI_BIN}:{Path(sys.executable).parent}:{SYSTEM_PATH}",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TMPDIR": str(tmp_path),
            "ANTHROPIC_API_KEY": "sk-ant-fake",
            **env,
            "MESA_API_KEY": run_key,
            "MESA_MCP_URL": f"http://127.0.0.1:{MESA_PORT}/mcp",
            # The fake model's script: call Mesa's comment tool by the name the CLI gives it.
            "FAKE_ANTHROPIC_TOOL": json.dumps({"name": tool, "input": {"key": issue_key, "body": body}}),
        },
        timeout_s=90,
        max_turns=4,
        extra={"command_prefix": _prefix(db, log, ready, daphne_log), "kill_grace_s": 2},
    )
    assert run_key not in " ".join(runner.command(ctx))  # the CLI expands $MESA_API_KEY itself
    sink = RecordingSink(model=ctx.model)
    outcome = runner.execute(ctx, sink)
    requests: list[dict[str, Any]] = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    why = f"outcome={outcome!r}\nrequests={requests}\ndaphne={daphne_log.read_text() if daphne_log.exists() else ''}"
    return db, issue_key, body, outcome, sink, why


def test_it_lets_the_real_claude_call_a_mesa_mcp_tool(tmp_path: Path) -> None:
    _require("claude")
    db, issue_key, body, outcome, sink, why = _call_a_tool(
        ClaudeCodeRunner(),
        tmp_path,
        tool="mcp__mesa__comment_create",  # claude names MCP tools mcp__<server>__<tool>
        model="claude-sonnet-4-5",
        env={"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{API_PORT}"},
    )
    assert outcome.exit_code == 0, why
    assert sink.of_type("tool_use")[0].data["name"] == "mcp__mesa__comment_create", why
    assert not sink.of_type("tool_result")[0].is_error, why
    # The effect landed: the comment exists, written by the run key's agent.
    assert run_python(db, COMMENTS.format(key=issue_key)).strip() == f"founding-engineer {body}", why


def test_it_lets_the_real_opencode_call_a_mesa_mcp_tool(tmp_path: Path) -> None:
    _require("opencode")
    config = {
        "provider": {"anthropic": {"options": {"baseURL": f"http://127.0.0.1:{API_PORT}/v1", "apiKey": "sk-ant-fake"}}},
        "autoupdate": False,
        "share": "disabled",
    }
    db, issue_key, body, outcome, sink, why = _call_a_tool(
        OpenCodeRunner(),
        tmp_path,
        tool="mesa_comment_create",  # opencode names MCP tools <server>_<tool>
        model="anthropic/claude-sonnet-4-5",
        env={"OPENCODE_CONFIG_CONTENT": json.dumps(config), "OPENCODE_DISABLE_MODELS_FETCH": "1"},
    )
    assert outcome.exit_code == 0, why
    assert sink.of_type("tool_use")[0].data["name"] == "mesa_comment_create", why
    assert not sink.of_type("tool_result")[0].is_error, why
    assert run_python(db, COMMENTS.format(key=issue_key)).strip() == f"founding-engineer {body}", why
