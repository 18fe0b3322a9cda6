"""Fake OpenAI Responses API (``POST /v1/responses``, streamed SSE) for the real ``codex`` CLI.

``python openai_responses_api.py PORT LOG READY`` (see ``_model_api.py``); codex reaches it as a
custom provider (``-c model_providers.X={base_url=..., wire_api="responses"}``). Streams
``response.created`` -> ``response.output_item.added`` -> (``response.output_text.delta``) ->
``response.output_item.done`` -> ``response.completed`` (with usage). Step 1 is a
``function_call`` of ``exec_command`` writing contract-output.txt (usage: input 642 of which 200
cached, output 34 of which reasoning 10); step 2 the final message (input 900 of which 600
cached, output 21). Each answer's usage is logged; GET requests (model lists) get empty lists.
``FAKE_OPENAI_TEXT`` replaces the final message's text (the Codex bridge's contract test tells it apart).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from _model_api import TARGET, Log, Request, serve

TOOL_USAGE = {"input_tokens": 642, "cached_tokens": 200, "output_tokens": 34, "reasoning_tokens": 10}
FINAL_USAGE = {"input_tokens": 900, "cached_tokens": 600, "output_tokens": 21, "reasoning_tokens": 0}


def _wire_usage(u: dict) -> dict:
    return {
        "input_tokens": u["input_tokens"],
        "input_tokens_details": {"cached_tokens": u["cached_tokens"]},
        "output_tokens": u["output_tokens"],
        "output_tokens_details": {"reasoning_tokens": u["reasoning_tokens"]},
        "total_tokens": u["input_tokens"] + u["output_tokens"],
    }


def _has_tool_output(body: dict) -> bool:
    items = body.get("input")
    return isinstance(items, list) and any(
        isinstance(i, dict) and i.get("type") == "function_call_output" for i in items
    )


def route(req: Request, log: Log) -> None:
    path = req.path.split("?")[0]
    if req.method == "GET":
        log.write({"path": req.path, "method": "GET", "step": "list"})
        req.json(200, {"object": "list", "data": [], "models": []})
        return
    if not path.endswith("/responses"):
        log.write({"path": req.path, "method": req.method, "step": "unhandled"})
        req.json(404, {"error": {"message": f"no route {req.path}", "type": "invalid_request_error"}})
        return
    body = req.body or {}
    model = body.get("model", "gpt-fake")
    response = {
        "id": "resp_contract",
        "object": "response",
        "created_at": 1764000000,
        "model": model,
        "status": "in_progress",
    }
    if not _has_tool_output(body):
        step, usage = "tool", TOOL_USAGE
        item: dict[str, Any] = {
            "type": "function_call",
            "id": "fc_contract_1",
            "call_id": "call_contract_1",
            "name": "exec_command",
            "arguments": json.dumps({"cmd": f"printf made-by-codex > {TARGET}"}),
            "status": "completed",
        }
        events = [
            (
                "response.output_item.added",
                {"type": "response.output_item.added", "output_index": 0, "item": {**item, "arguments": ""}},
            ),
            ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        ]
    else:
        step, usage = "final", FINAL_USAGE
        text = os.environ.get("FAKE_OPENAI_TEXT") or "The file is written."
        item = {
            "type": "message",
            "id": "msg_contract_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        events = [
            (
                "response.output_item.added",
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {**item, "content": [], "status": "in_progress"},
                },
            ),
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": 0,
                    "content_index": 0,
                    "delta": text,
                },
            ),
            ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        ]
    log.write({"path": req.path, "model": model, "step": step, "usage": usage})
    done = {**response, "status": "completed", "output": [item], "usage": _wire_usage(usage)}
    req.sse(
        [("response.created", {"type": "response.created", "response": response}), *events]
        + [("response.completed", {"type": "response.completed", "response": done})]
    )


if __name__ == "__main__":
    serve(route)
