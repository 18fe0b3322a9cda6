"""A run's environment (what its process sees) and the values redacted from everything stored about it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.conf import settings

from agents.models import Agent
from issues.models import Issue
from orgs.redaction import stored_secrets
from runners.models import Run

_SERVER_ONLY = ("DATABASE_URL", "SECRET_KEY", "DJANGO_SECRET_KEY", "DJANGO_SETTINGS_MODULE")
_SERVER_PREFIXES = ("MESA_", "TELEGRAM", "DISCORD")


def build_env(*, agent: Agent, run: Run, issue: Issue | None, api_key: str, workdir: Path) -> dict[str, str]:
    """The complete environment of an agent's process: the host's (minus server secrets), the agent's, MESA_*."""
    env = {k: v for k, v in os.environ.items() if k not in _SERVER_ONLY and not k.startswith(_SERVER_PREFIXES)}
    # An empty value is a name still to be filled in (an imported org's secrets): it must not blank the host's.
    env.update({str(k): str(v) for k, v in (agent.env or {}).items() if str(v) != ""})
    env.update(
        {
            "MESA_API_URL": settings.MESA_API_URL,
            "MESA_MCP_URL": settings.MESA_MCP_URL,
            "MESA_API_KEY": api_key,
            "MESA_AGENT_ID": str(agent.pk),
            "MESA_AGENT_SLUG": agent.slug,
            "MESA_RUN_ID": str(run.pk),
            "MESA_ISSUE_KEY": issue.key if issue is not None else "",
            "MESA_WORKTREE": str(workdir),
            "MESA_RUN_MODE": run.mode,
        }
    )
    return env


# Host variables whose values an agent's output must never store (API keys the CLIs use, tokens, ...).
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)
# Injected variables known to hold no secret (redacting them would shred transcripts: paths, the slug...).
# Every other value Mesa puts into a run's environment is a secret, whatever its name (DEPLOY_PWD).
_PLAIN_NAMES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ", "PWD", "OLDPWD", "SHLVL",
        "HOSTNAME", "TMPDIR", "TMP", "TEMP", "DISPLAY", "COLORTERM", "TERM_PROGRAM", "EDITOR", "VISUAL", "PAGER",
        "LS_COLORS", "_", "MESA_API_URL", "MESA_AGENT_ID", "MESA_AGENT_SLUG", "MESA_RUN_ID", "MESA_ISSUE_KEY",
        "MESA_WORKTREE", "MESA_RUN_MODE", "MESA_MCP_URL",
    }
)  # fmt: skip
_PLAIN_PREFIXES = ("LC_", "XDG_")


def _plain(name: str, value: str) -> bool:
    """A value that is safe to keep in stored output: a well-known harmless name, a number, a path."""
    if name in _PLAIN_NAMES or name.startswith(_PLAIN_PREFIXES):
        return True
    if value.isdigit() or value.lower() in {"true", "false", "yes", "no", "on", "off"}:
        return True
    # A path that exists on this host is not a credential (and paths fill every transcript).
    return value.startswith("/") and "\n" not in value and len(value) < 4096 and os.path.exists(value)


def secrets_of(agent: Agent, api_key: str, env: dict[str, str] | None = None) -> list[str]:
    """Values redacted from everything stored or published about a run.

    The run key; every value Mesa injects into the run's environment (``env``, from
    :func:`build_env`) except the plainly harmless ones, whatever the variable's name; every value of
    the agent's own env; every host variable whose name looks secret; and every secret the org stores
    (other agents' env values, notification tokens and webhook URLs).
    """
    host = [v for k, v in os.environ.items() if _SECRET_NAME.search(k)]
    injected = [v for k, v in (env or {}).items() if k != "MESA_API_KEY" and not _plain(k, v)]
    own = [str(v) for v in (agent.env or {}).values()]
    return [api_key, *own, *injected, *host, *stored_secrets(agent.org_id)]
