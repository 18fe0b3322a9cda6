"""Contract tests: the REAL agent CLIs, run through Mesa's runners and executor.

Each CLI (claude, codex, gemini and opencode: the pinned versions ``make cli-deps`` installs into
``.tools/npm``) runs in a real git worktree made by ``runners.worktrees`` against a fake model
API on loopback, both inside ``unshare -n`` (a network namespace with only a loopback device:
nothing can leave the machine). The fake answers with one tool call that writes a file, then a
final message with known usage; each test checks that the file landed in the worktree (and in
the run's diff), that the tokens Mesa parsed are the ones the fake sent, and that the run has a
cost.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from runners.base import RunContext
from runners.claude_code import ClaudeCodeRunner
from runners.codex import CodexRunner
from runners.executor import SubprocessRunner
from runners.gemini import GeminiRunner
from runners.opencode import OpenCodeRunner
from runners.worktrees import Workspace, workspace_finish, workspace_prepare
from tests.runners.cli_support import RecordingSink

pytestmark = pytest.mark.cli

REPO = Path(__file__).resolve().parents[2]
CLI_BIN = REPO / ".tools" / "npm" / "node_modules" / ".bin"
FAKES = REPO / "tests" / "fakes"
PORT = 8788
TARGET = "contract-output.txt"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _require(cli: str) -> Path:
    binary = CLI_BIN / cli
    if not binary.exists():
        pytest.skip(f"the pinned {cli} CLI is not installed in {CLI_BIN}: run `make cli-deps`")
    if shutil.which("unshare") is None or shutil.which("ip", path=SYSTEM_PATH) is None:
        pytest.skip("`unshare` / `ip` are not available: the real CLIs only run inside a private network namespace")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"`unshare -n` is not permitted here: {probe.stderr.decode(errors='replace').strip()}")
    return binary


def _isolated_prefix(fake: str, log: Path, ready: Path) -> list[str]:
    """argv that runs the fake API and then the CLI (``"$@"``) in a fresh network namespace."""
    script = (
        "ip link set lo up || exit 97; "
        f'"{sys.executable}" "{FAKES / fake}" {PORT} "{log}" "{ready}" >/dev/null 2>&1 & '
        f'i=0; until [ -e "{ready}" ]; do i=$((i+1)); [ $i -gt 200 ] && exit 98; sleep 0.05; done; '
        'exec "$@"'
    )
    return ["unshare", "-n", "sh", "-c", script, "mesa-contract"]


@pytest.fixture
def repo(tmp_path: Path, settings: Any) -> Path:
    settings.MESA_WORKTREES_DIR = str(tmp_path / "worktrees")
    settings.MESA_KEEP_WORKTREES = False
    path = tmp_path / "project"
    path.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / "README.md").write_text("# project\n")
    subprocess.run([*git, "-C", str(path), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(path), "commit", "-q", "-m", "init"], check=True)
    return path


def _run(
    runner: SubprocessRunner,
    repo: Path,
    tmp_path: Path,
    fake: str,
    *,
    model: str,
    env: dict[str, str],
    extra: dict[str, Any],
    disallowed: list[str] | None = None,
    padding: int = 0,
) -> tuple[Workspace, RecordingSink, Any, list[dict[str, Any]], str]:
    ws = workspace_prepare(working_dir=str(repo), run_id=4242, issue_key="ACME-7")
    assert ws.isolated
    log, ready = tmp_path / "api-log.jsonl", tmp_path / "api-ready"
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    ctx = RunContext(
        run_id=4242,
        agent_slug="builder",
        model=model,
        prompt=f"Create the file {TARGET} containing made-by-the-cli, using a shell command." + " " * padding,
        system_prompt="You are the backend engineer of a small team.",
        cwd=ws.cwd,
        env={
            "PATH": f"{CLI_BIN}:{Path(sys.executable).parent}:{SYSTEM_PATH}",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TMPDIR": str(tmp_path),
            "MESA_RUN_ID": "4242",
            **env,
        },
        timeout_s=60,  # generous: a loaded machine slows node start-up; a healthy run takes seconds
        max_turns=6,
        disallowed_tools=disallowed or [],
        extra={"command_prefix": _isolated_prefix(fake, log, ready), "kill_grace_s": 2, **extra},
    )
    sink = RecordingSink(model=model)
    outcome = runner.execute(ctx, sink)
    requests = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    diff = workspace_finish(ws, run_id=4242)
    return ws, sink, outcome, requests, diff


def _explain(outcome: Any, sink: RecordingSink, requests: list[dict[str, Any]]) -> str:
    events = [(e.type, {k: str(v)[:200] for k, v in e.data.items()}) for e in sink.events[-15:]]
    return f"outcome={outcome!r}\nevents={events}\nrequests={requests}"


def _sent(requests: list[dict[str, Any]], key: str) -> int:
    return sum(int(r.get("usage", {}).get(key, 0)) for r in requests if "usage" in r)


@pytest.mark.parametrize("padding", [0, 150_000], ids=["prompt-in-argv", "huge-prompt-on-stdin"])
def test_it_runs_the_real_claude_cli(repo: Path, tmp_path: Path, padding: int) -> None:
    _require("claude")
    ws, sink, outcome, requests, diff = _run(
        ClaudeCodeRunner(),
        repo,
        tmp_path,
        "anthropic_api.py",
        model="claude-sonnet-4-5",
        env={"ANTHROPIC_API_KEY": "sk-ant-fake", "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{PORT}"},
        extra={},
        disallowed=["WebFetch", "WebSearch"],  # the `=` form must not swallow the prompt
        padding=padding,
    )
    why = _explain(outcome, sink, requests)
    assert outcome.exit_code == 0 and outcome.failure_reason == "", why
    assert [r["step"] for r in requests if r["step"] != "side"] == ["tool", "final"], why
    assert "+made-by-claude" in diff and TARGET in diff, why
    assert not (repo / TARGET).exists()  # the main checkout is never touched
    result = sink.of_type("result")[-1]
    assert not result.is_error and result.data["num_turns"] == 2, why
    final = sink.final
    assert final is not None, why
    assert final.tokens_in == _sent(requests, "input_tokens"), why
    assert final.tokens_out == _sent(requests, "output_tokens"), why
    assert final.cache_read == _sent(requests, "cache_read_input_tokens"), why
    assert final.cache_write == _sent(requests, "cache_creation_input_tokens"), why
    # the CLI's own cost (top-level total_cost_usd), not a re-computation
    assert final.cost_usd is not None and final.cost_usd > 0, why
    assert result.data["total_cost_usd"] == str(final.cost_usd)
    assert sink.of_type("tool_use")[0].data["name"] == "Bash"
    init = sink.of_type("system")[0].data
    assert "Bash" in init["tools"] and "WebFetch" not in init["tools"], why  # --disallowedTools applied
    # the mid-run meter counted each API message once: its sum equals the CLI's totals
    metered = sink.metered
    assert (metered.tokens_in, metered.cache_read, metered.cache_write) == (
        final.tokens_in,
        final.cache_read,
        final.cache_write,
    ), why
    # output counts in assistant lines can lag the final message_delta: the meter never overcounts
    assert 0 < metered.tokens_out <= final.tokens_out, why


@pytest.mark.parametrize(
    ("sandbox", "padding"),
    [("workspace-write", 0), ("danger-full-access", 150_000)],
    ids=["sandboxed-prompt-in-argv", "unsandboxed-huge-prompt-on-stdin"],
)
def test_it_runs_the_real_codex_cli(repo: Path, tmp_path: Path, sandbox: str, padding: int) -> None:
    _require("codex")
    codex_home = tmp_path / "home" / ".codex"
    codex_home.mkdir(parents=True)
    ws, sink, outcome, requests, diff = _run(
        CodexRunner(),
        repo,
        tmp_path,
        "openai_responses_api.py",
        model="gpt-5",
        env={"OPENAI_API_KEY": "sk-fake", "CODEX_HOME": str(codex_home)},
        extra={"base_url": f"http://127.0.0.1:{PORT}/v1", "sandbox": sandbox},
        padding=padding,
    )
    why = _explain(outcome, sink, requests)
    assert outcome.exit_code == 0 and outcome.failure_reason == "", why
    assert [r["step"] for r in requests if r.get("step") in ("tool", "final")] == ["tool", "final"], why
    assert "+made-by-codex" in diff and TARGET in diff, why
    final = sink.usage  # codex states no totals: the sink's sum of the turns, priced by the sink
    sent_in, sent_cached = _sent(requests, "input_tokens"), _sent(requests, "cached_tokens")
    assert (final.tokens_in, final.cache_read) == (sent_in - sent_cached, sent_cached), why
    assert final.tokens_out == _sent(requests, "output_tokens"), why
    expected = (
        Decimal("1.25") * final.tokens_in + Decimal("0.125") * final.cache_read + Decimal(10) * final.tokens_out
    ) / Decimal(1_000_000)
    assert final.cost_usd == expected and expected > 0, why


def test_it_runs_the_real_gemini_cli(repo: Path, tmp_path: Path) -> None:
    _require("gemini")
    settings_dir = tmp_path / "home" / ".gemini"
    settings_dir.mkdir(parents=True)
    gemini_settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "privacy": {"usageStatisticsEnabled": False},
    }
    (settings_dir / "settings.json").write_text(json.dumps(gemini_settings))
    ws, sink, outcome, requests, diff = _run(
        GeminiRunner(),
        repo,
        tmp_path,
        "gemini_api.py",
        model="gemini-2.5-flash",
        env={"GEMINI_API_KEY": "fake-key", "GOOGLE_GEMINI_BASE_URL": f"http://127.0.0.1:{PORT}"},
        extra={},
    )
    why = _explain(outcome, sink, requests)
    assert outcome.exit_code == 0 and outcome.failure_reason == "", why
    assert [r["step"] for r in requests if r.get("step") in ("tool", "final")] == ["tool", "final"], why
    assert "+made-by-gemini" in diff and TARGET in diff, why
    assert sink.final is not None, why
    final = sink.usage  # the CLI's totals, priced by the sink
    sent_prompt, sent_cached = _sent(requests, "promptTokenCount"), _sent(requests, "cachedContentTokenCount")
    assert (final.tokens_in, final.cache_read) == (sent_prompt - sent_cached, sent_cached), why
    assert final.tokens_out == _sent(requests, "candidatesTokenCount") + _sent(requests, "thoughtsTokenCount"), why
    expected = (
        Decimal("0.30") * final.tokens_in + Decimal("0.075") * final.cache_read + Decimal("2.50") * final.tokens_out
    ) / Decimal(1_000_000)
    assert final.cost_usd == expected and expected > 0, why


def test_it_runs_the_real_opencode_cli(repo: Path, tmp_path: Path) -> None:
    _require("opencode")
    config = {
        "provider": {"anthropic": {"options": {"baseURL": f"http://127.0.0.1:{PORT}/v1", "apiKey": "sk-ant-fake"}}},
        "autoupdate": False,
        "share": "disabled",
    }
    ws, sink, outcome, requests, diff = _run(
        OpenCodeRunner(),
        repo,
        tmp_path,
        "anthropic_api.py",
        model="anthropic/claude-sonnet-4-5",
        env={
            "ANTHROPIC_API_KEY": "sk-ant-fake",
            "OPENCODE_CONFIG_CONTENT": json.dumps(config),
            "OPENCODE_DISABLE_MODELS_FETCH": "1",  # offline: no models.dev download attempt
        },
        extra={},
    )
    why = _explain(outcome, sink, requests)
    assert outcome.exit_code == 0 and outcome.failure_reason == "", why
    main = [r for r in requests if r.get("step") in ("tool", "final")]
    assert [r["step"] for r in main] == ["tool", "final"], why
    assert "+made-by-claude" in diff and TARGET in diff, why  # the fake Anthropic API's command
    final = sink.usage  # opencode states no totals: the sink's sum of the steps
    assert sink.of_type("result")[-1].data["num_turns"] == 2, why
    # opencode reports each step's tokens (its side requests, e.g. the title, are not in the stream)
    assert final.tokens_in == _sent(main, "input_tokens"), why
    assert final.tokens_out == _sent(main, "output_tokens"), why
    assert final.cache_read == _sent(main, "cache_read_input_tokens"), why
    assert final.cache_write == _sent(main, "cache_creation_input_tokens"), why
    assert final.cost_usd is not None and final.cost_usd > 0, why
    assert sink.of_type("tool_use")[0].data["name"] == "bash"
