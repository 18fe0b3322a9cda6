"""Runner name → implementing class, imported lazily (the web process never pays for them)."""

from __future__ import annotations

from importlib import import_module

from runners.base import BaseRunner

RUNNERS: dict[str, str] = {
    "claude_code": "runners.claude_code:ClaudeCodeRunner",
    "codex": "runners.codex:CodexRunner",
    "gemini": "runners.gemini:GeminiRunner",
    "opencode": "runners.opencode:OpenCodeRunner",
    "copilot": "runners.copilot:CopilotRunner",
    "openai": "runners.openai_compat:OpenAIRunner",
    "noop": "runners.noop:NoopRunner",
    "dry_run": "runners.dry_run:DryRunRunner",
    "command": "runners.command:CommandRunner",
}


def runner_for(name: str) -> BaseRunner:
    try:
        module_name, _, class_name = RUNNERS[name].partition(":")
    except KeyError as exc:
        raise KeyError(f"unknown runner {name!r}") from exc
    cls = getattr(import_module(module_name), class_name)
    return cls()
