"""Helpers for models that record who did something (agent, human or system)."""

from __future__ import annotations


def author_name(obj: object, prefix: str) -> str:
    """Display name for the ``<prefix>_agent`` / ``_user`` / ``_label`` triple."""
    agent = getattr(obj, f"{prefix}_agent", None)
    if agent is not None:
        return str(agent.name)
    user = getattr(obj, f"{prefix}_user", None)
    if user is not None:
        return str(user.get_username())
    return str(getattr(obj, f"{prefix}_label", "") or "Board")
