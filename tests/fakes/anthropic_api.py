"""Fake Anthropic Messages API (``POST /v1/messages``, streamed SSE) for the real ``claude`` CLI.

``python anthropic_api.py PORT LOG READY`` (see ``_model_api.py``). Streams the standard
sequence ``message_start`` (usage: input, cache creation, cache read, output so far) ->
``content_block_start`` -> ``content_block_delta`` (``text_delta`` / ``input_json_delta``) ->
``content_block_stop`` -> ``message_delta`` (stop_reason, final output_tokens) -> ``message_stop``.
Step 1 is a ``Bash`` tool_use writing contract-output.txt (usage: input 120, cache creation 30,
cache read 0, output 25); step 2 the final text (input 200, cache read 80, output 15). Any other
request (a side call of the CLI) gets a short text with input 10 / output 2. Each answer's usage
is logged, with the names of the tools the request offered.

``FAKE_ANTHROPIC_TOOL`` (JSON ``{"name", "input"}``) makes step 1 call that tool instead of
``Bash`` (the MCP contract test asks for a Mesa MCP tool, ``mcp__mesa__comment_create``).
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from _model_api import TARGET, Log, Request, serve

TOOL_STEP = {"input_tokens": 120, "cache_creation_input_tokens": 30, "cache_read_input_tokens": 0, "output_tokens": 25}
FINAL_STEP = {"input_tokens": 200, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 80, "output_tokens": 15}
SIDE_STEP = {"input_tokens": 10, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 2}


def _tool_results(body: dict) -> list[str]:
    """The tool results the conversation holds (as text), for the log."""
    out = []
    for message in body.get("messages", []):
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                out.append(json.dumps(block.get("content"))[:2000])
    return out


def _has_tool_result(body: dict) -> bool:
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
            return True
    return False


def _stream(req: Request, msg_id: str, model: str, block: dict, usage: dict, stop_reason: str) -> None:
    start_usage = {**usage, "output_tokens": 1}
    events: list[tuple[str | None, object]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        )
    ]
    if block["type"] == "text":
        events += [
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            ),
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": block["text"]}},
            ),
        ]
    else:
        events += [
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])},
                },
            ),
        ]
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    req.sse(events)


def route(req: Request, log: Log) -> None:
    path = req.path.split("?")[0]
    if req.method != "POST" or not path.endswith("/v1/messages"):
        log.write({"path": req.path, "method": req.method, "step": "unhandled"})
        req.json(404, {"type": "error", "error": {"type": "not_found_error", "message": f"no route {req.path}"}})
        return
    body = req.body or {}
    model = body.get("model", "claude-fake")
    is_main = bool(body.get("tools"))
    if is_main and not _has_tool_result(body):
        step, usage, stop = "tool", TOOL_STEP, "tool_use"
        scripted = json.loads(os.environ.get("FAKE_ANTHROPIC_TOOL") or "null") or {
            "name": "Bash",
            "input": {"command": f"printf made-by-claude > {TARGET}", "description": "Write the file"},
        }
        block = {"type": "tool_use", "id": "toolu_contract_1", "name": scripted["name"], "input": scripted["input"]}
    elif is_main:
        step, usage, stop = "final", FINAL_STEP, "end_turn"
        block = {"type": "text", "text": "The file is written."}
    else:
        step, usage, stop = "side", SIDE_STEP, "end_turn"
        block = {"type": "text", "text": "ok"}
    tools = [str(t.get("name")) for t in body.get("tools") or [] if isinstance(t, dict)]
    log.write(
        {
            "path": req.path,
            "model": model,
            "step": step,
            "stream": bool(body.get("stream")),
            "usage": usage,
            "tools": tools,
            "tool_results": _tool_results(body),
        }
    )
    if not body.get("stream"):
        content = [block] if block["type"] == "text" else [{**block}]
        req.json(
            200,
            {
                "id": f"msg_{step}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage,
            },
        )
        return
    _stream(req, f"msg_contract_{step}", model, block, usage, stop)


if __name__ == "__main__":
    serve(route)
