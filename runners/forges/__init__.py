"""Code forges Mesa opens pull requests on: name → client class, one module each (plain HTTP, urllib)."""

from __future__ import annotations

from importlib import import_module

from runners.forges.base import ChangeSet, Forge, ForgeError, PullRequest

FORGES: dict[str, str] = {
    "github": "runners.forges.github:GitHub",
    "gitlab": "runners.forges.gitlab:GitLab",
}

__all__ = ["FORGES", "ChangeSet", "Forge", "ForgeError", "PullRequest", "forge_for"]


def forge_for(name: str, *, api_url: str, repo: str, token: str) -> Forge:
    """The client of forge ``name`` for ``repo`` ("owner/name"; GitLab: the project path) at ``api_url``."""
    try:
        module_name, _, class_name = FORGES[name].partition(":")
    except KeyError as exc:
        raise ForgeError(f"unknown forge {name!r}; forges are {', '.join(FORGES)}") from exc
    cls: type[Forge] = getattr(import_module(module_name), class_name)
    return cls(api_url=api_url, repo=repo, token=token)
