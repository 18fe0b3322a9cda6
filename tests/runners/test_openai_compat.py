from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from runners.openai_compat import OpenAIRunner, Workspace
from tests.fakes.openai_server import FakeOpenAI, tool_call_step
from tests.runners.cli_support import RecordingSink, make_ctx


def _ctx(tmp_path: Path, fake: FakeOpenAI, **kw: Any) -> Any:
    env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-local-123456", **kw.pop("env", {})}
    kw.setdefault("model", "qwen2.5-coder:7b")
    return make_ctx(tmp_path, env=env, **kw)


def test_it_runs_the_tool_loop_until_a_final_answer(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        sink = RecordingSink()
        outcome = OpenAIRunner().execute(_ctx(tmp_path, fake), sink)
    assert outcome.exit_code == 0 and outcome.failure_reason == "" and outcome.num_turns == 2
    assert (tmp_path / "fake-output.txt").read_text() == "made-by-openai\n"
    assert [e.type for e in sink.events] == ["system", "text", "tool_use", "tool_result", "text", "result"]
    assert sink.of_type("tool_result")[0].data["content"].startswith("wrote 15 bytes")
    # tokens from each response's usage: cached prompt tokens are split out
    assert (sink.metered.tokens_in, sink.metered.cache_read, sink.metered.tokens_out) == (220, 30, 30)
    assert sink.final is None and sink.usage.tokens_total == 280  # the sink's sum is the run's total
    models = {e.usage.model for e in sink.events if e.usage is not None}
    assert models == {"qwen2.5-coder:7b"}  # the model the server says answered, for the sink to price
    assert sink.usage.cost_usd == 0  # a local model is not in the price table
    # the second request carries the tool result back, with the tool call id
    second = fake.requests[1]["messages"]
    assert second[-1] == {"role": "tool", "tool_call_id": "call_1", "content": second[-1]["content"]}
    assert second[0]["role"] == "system" and "You are the backend engineer." in second[0]["content"]
    assert fake.requests[0]["model"] == "qwen2.5-coder:7b"
    assert {t["function"]["name"] for t in fake.requests[0]["tools"]} == {
        "read_file",
        "write_file",
        "list_files",
        "run_shell",
        "mesa_api",
    }
    assert fake.auth == ["Bearer sk-local-123456"] * 2


def test_it_prices_a_known_model(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        sink = RecordingSink()
        OpenAIRunner().execute(_ctx(tmp_path, fake, model="gpt-4o-mini"), sink)
    expected = (Decimal("0.15") * 220 + Decimal("0.075") * 30 + Decimal("0.60") * 30) / Decimal(1_000_000)
    assert sink.usage.cost_usd == expected


def test_it_refuses_paths_outside_the_worktree(tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (tmp_path / "secret.txt").write_text("top secret")
    (worktree / "link").symlink_to(tmp_path / "secret.txt")
    script = [
        tool_call_step("read_file", {"path": "../secret.txt"}, "c1"),
        tool_call_step("read_file", {"path": "link"}, "c2"),
        tool_call_step("write_file", {"path": "/tmp/escape.txt", "content": "x"}, "c3"),
        {"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop", "usage": {}},
    ]
    with FakeOpenAI(script) as fake:
        sink = RecordingSink()
        outcome = OpenAIRunner().execute(_ctx(worktree, fake), sink)
    assert outcome.exit_code == 0
    results = sink.of_type("tool_result")
    assert len(results) == 3 and all(r.is_error and "outside the worktree" in r.data["content"] for r in results)
    assert not any("top secret" in json.dumps(r["messages"]) for r in fake.requests)


def test_it_runs_shell_commands_in_the_worktree_with_capped_output(tmp_path: Path) -> None:
    script = [
        tool_call_step("run_shell", {"command": "pwd; echo $MESA_RUN_ID; head -c 50000 /dev/zero | tr '\\0' a"}, "c1"),
        tool_call_step("run_shell", {"command": "sleep 30", "timeout_s": 1}, "c2"),
        {"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop", "usage": {}},
    ]
    with FakeOpenAI(script) as fake:
        sink = RecordingSink()
        OpenAIRunner().execute(_ctx(tmp_path, fake), sink)
    first, second = (r.data["content"] for r in sink.of_type("tool_result"))
    assert first.startswith(f"exit code 0\n{tmp_path}\n7\n")
    assert "characters cut" in first and len(first) < 25_000
    assert second.startswith("timed out after 1 s")


def test_it_stops_at_max_turns(tmp_path: Path) -> None:
    with FakeOpenAI(loop=True) as fake:
        sink = RecordingSink()
        outcome = OpenAIRunner().execute(_ctx(tmp_path, fake, max_turns=3), sink)
    assert len(fake.requests) == 3
    assert outcome.exit_code == 1 and "max_turns=3" in outcome.failure_reason
    result = sink.of_type("result")[-1]
    assert result.is_error and result.data["subtype"] == "error_max_turns"


def test_it_stops_when_the_budget_is_crossed(tmp_path: Path) -> None:
    with FakeOpenAI(loop=True) as fake:
        sink = RecordingSink(token_budget=2_500)
        outcome = OpenAIRunner().execute(_ctx(tmp_path, fake, max_turns=50), sink)
    assert outcome.stop_reason == "budget_exceeded"
    assert len(fake.requests) == 3  # 1,100 tokens each: the third request crossed 2,500
    assert not sink.of_type("result")


def test_it_fails_clearly_when_the_endpoint_errors(tmp_path: Path) -> None:
    class Broken(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": "model not loaded"}')

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ctx = make_ctx(tmp_path, model="m", extra={"base_url": f"http://127.0.0.1:{server.server_address[1]}/v1"})
        sink = RecordingSink()
        outcome = OpenAIRunner().execute(ctx, sink)
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.exit_code == 1
    assert "HTTP 500" in outcome.failure_reason and "model not loaded" in outcome.failure_reason
    assert sink.of_type("error")[0].is_error


def test_it_needs_a_model(tmp_path: Path) -> None:
    outcome = OpenAIRunner().execute(make_ctx(tmp_path, model=""), RecordingSink())
    assert outcome.exit_code is None and "model" in outcome.failure_reason


def test_it_calls_the_mesa_api_with_the_run_key(tmp_path: Path) -> None:
    seen: list[tuple[str, str, str | None, bytes]] = []

    class Api(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(("POST", self.path, self.headers.get("Authorization"), body))
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": 1}')

    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    script = [
        tool_call_step("mesa_api", {"method": "POST", "path": "/issues/ACME-1/comments", "json": {"body": "hi"}}, "c1"),
        tool_call_step("mesa_api", {"method": "GET", "path": "http://evil.example/x"}, "c2"),
        {"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop", "usage": {}},
    ]
    try:
        with FakeOpenAI(script) as fake:
            env = {"MESA_API_URL": f"http://127.0.0.1:{api.server_address[1]}/api/v1", "MESA_API_KEY": "mesa_run_key_1"}
            sink = RecordingSink()
            OpenAIRunner().execute(_ctx(tmp_path, fake, env=env), sink)
    finally:
        api.shutdown()
        api.server_close()
    assert seen == [("POST", "/api/v1/issues/ACME-1/comments", "Bearer mesa_run_key_1", b'{"body": "hi"}')]
    ok, refused = sink.of_type("tool_result")
    assert ok.data["content"].startswith("HTTP 201") and not ok.is_error
    assert refused.is_error and "below the API root" in refused.data["content"]


def test_the_workspace_lists_files_without_git_internals(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("")
    listing = Workspace(tmp_path, {}, None).list_files({"path": ".", "recursive": True})
    assert listing.splitlines() == ["src/", "src/a.py"]
