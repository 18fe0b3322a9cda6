"""The transport registry: channel kind → Transport (imported lazily, one module per kind)."""

from __future__ import annotations

import importlib

from notifications.transports.base import SendResult, Transport

__all__ = ["SendResult", "Transport", "transport_for", "TRANSPORT_MODULES"]

TRANSPORT_MODULES: dict[str, str] = {
    "telegram": "notifications.transports.telegram",
    "discord": "notifications.transports.discord",
    "slack": "notifications.transports.slack",
    "webhook": "notifications.transports.webhook",
}

_cache: dict[str, Transport] = {}


def transport_for(kind: str) -> Transport:
    """The Transport for a channel kind; KeyError for an unknown kind."""
    if kind not in _cache:
        module = importlib.import_module(TRANSPORT_MODULES[kind])
        _cache[kind] = module.TRANSPORT
    return _cache[kind]
