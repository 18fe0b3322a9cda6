"""Fake Gemini API (``POST /v1beta/models/<m>:streamGenerateContent?alt=sse``) for the real ``gemini`` CLI.

``python gemini_api.py PORT LOG READY`` (see ``_model_api.py``); the CLI reaches it through
``GOOGLE_GEMINI_BASE_URL``. Each answer is one SSE ``data:`` chunk with ``candidates`` and
``usageMetadata``. Step 1 is a ``functionCall`` of ``run_shell_command`` writing
contract-output.txt (usage: prompt 500 of which 100 cached, candidates 30); step 2 the final
text (prompt 700 of which 300 cached, candidates 12). Other calls (``:countTokens``, a
non-streamed ``:generateContent``) get minimal answers; every answer's usage is logged.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from _model_api import TARGET, Log, Request, serve

TOOL_USAGE = {
    "promptTokenCount": 500,
    "cachedContentTokenCount": 100,
    "candidatesTokenCount": 30,
    "thoughtsTokenCount": 0,
}
FINAL_USAGE = {
    "promptTokenCount": 700,
    "cachedContentTokenCount": 300,
    "candidatesTokenCount": 12,
    "thoughtsTokenCount": 0,
}


def _metadata(u: dict) -> dict:
    return {**u, "totalTokenCount": u["promptTokenCount"] + u["candidatesTokenCount"] + u["thoughtsTokenCount"]}


def _has_function_response(body: dict) -> bool:
    for content in body.get("contents", []):
        for part in content.get("parts", []) if isinstance(content, dict) else []:
            if isinstance(part, dict) and "functionResponse" in part:
                return True
    return False


def route(req: Request, log: Log) -> None:
    path = req.path.split("?")[0]
    body = req.body or {}
    if path.endswith(":countTokens"):
        log.write({"path": req.path, "step": "count"})
        req.json(200, {"totalTokens": 10})
        return
    if not (path.endswith(":streamGenerateContent") or path.endswith(":generateContent")):
        log.write({"path": req.path, "method": req.method, "step": "unhandled"})
        req.json(404, {"error": {"code": 404, "message": f"no route {req.path}", "status": "NOT_FOUND"}})
        return
    model = path.rsplit("/", 1)[-1].split(":")[0]
    if not body.get("tools"):
        # a side call (e.g. a routing classifier or a summary): a short text, logged with its usage
        step, usage = (
            "side",
            {"promptTokenCount": 10, "cachedContentTokenCount": 0, "candidatesTokenCount": 2, "thoughtsTokenCount": 0},
        )
        parts: list[dict] = [{"text": "ok"}]
    elif not _has_function_response(body):
        step, usage = "tool", TOOL_USAGE
        parts = [
            {
                "functionCall": {
                    "name": "run_shell_command",
                    "args": {"command": f"printf made-by-gemini > {TARGET}", "description": "write the file"},
                }
            }
        ]
    else:
        step, usage = "final", FINAL_USAGE
        parts = [{"text": "The file is written."}]
    log.write({"path": req.path, "model": model, "step": step, "usage": usage})
    chunk = {
        "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": _metadata(usage),
        "modelVersion": model,
    }
    if path.endswith(":generateContent"):
        req.json(200, chunk)
    else:
        req.sse([(None, chunk)])


if __name__ == "__main__":
    serve(route)
