"""Which container engine Mesa talks to (``DOCKER_HOST``, else the usual sockets), and what it says.

Used by the container sandbox (its client), ``manage.py doctor`` and the Settings › Runners page
(kind, version, socket, images), and by the default sandbox of new agents: ``container`` as soon as
an engine answers, ``host`` otherwise (``MESA_SANDBOX_DEFAULT`` can pin either).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

_SOCKETS = ("/var/run/docker.sock", "/run/podman/podman.sock")
PING_TIMEOUT_S = 3
# doctor and Settings › Runners ask once and list every image: a podman busy building answers slowly, and a
# short timeout there would report a working engine as missing.
INFO_TIMEOUT_S = 20
_CACHE_S = 10.0
_cache: dict[str, tuple[float, bool, list[str]]] = {}


def engine_url() -> str:
    """``DOCKER_HOST``, else the first engine socket that exists here ("" when there is none)."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    candidates = list(_SOCKETS)
    if os.environ.get("XDG_RUNTIME_DIR"):
        candidates.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "podman", "podman.sock"))
    for path in candidates:
        if os.path.exists(path):
            return f"unix://{path}"
    return ""


def docker_client(timeout: int = 60) -> Any:
    """A docker SDK client for :func:`engine_url` (Docker or podman's API socket)."""
    import docker  # the SDK is only needed by processes that talk to an engine

    url = engine_url()
    if not url:
        raise RuntimeError("no container engine: set DOCKER_HOST or start Docker or `podman system service`")
    return docker.DockerClient(base_url=url, timeout=timeout)


@dataclass
class EngineInfo:
    url: str = ""
    kind: str = ""  # "Podman Engine", "Docker Engine"...
    version: str = ""
    error: str = ""  # why it does not answer ("" when it does)
    images: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error


def engine_info() -> EngineInfo:
    """Ask the engine who it is and which images it has; ``error`` says why not."""
    info = EngineInfo(url=engine_url())
    if not info.url:
        info.error = "no engine: DOCKER_HOST is not set and no Docker or podman socket was found"
        return info
    try:
        client = docker_client(timeout=INFO_TIMEOUT_S)
        version = client.version()
        components = version.get("Components") or [{}]
        info.kind = str(components[0].get("Name") or version.get("Platform", {}).get("Name") or "engine")
        info.version = str(version.get("Version", ""))
        info.images = sorted(tag for image in client.images.list() for tag in image.tags)
    except Exception as exc:  # any failure means: no engine to run containers with
        info.error = f"the engine at {info.url} does not answer: {type(exc).__name__}: {exc}"[:300]
    return info


def engine_answers() -> bool:
    """A short cached ping (new agents and readiness ask it often)."""
    return _probe()[0]


def engine_images() -> list[str]:
    """The engine's image tags (cached with the ping; empty when no engine answers)."""
    return _probe()[1]


def _probe() -> tuple[bool, list[str]]:
    url = engine_url()
    if not url:
        return False, []
    now = time.monotonic()
    cached = _cache.get(url)
    if cached and now - cached[0] < _CACHE_S:
        return cached[1], cached[2]
    try:
        client = docker_client(timeout=PING_TIMEOUT_S)
        answers = bool(client.ping())
        images = sorted(tag for image in client.images.list() for tag in image.tags)
    except Exception:  # no engine, a dead socket, a refused connection: all mean "no"
        answers, images = False, []
    _cache[url] = (now, answers, images)
    return answers, images


def default_sandbox() -> str:
    """The sandbox of a new agent: ``MESA_SANDBOX_DEFAULT`` if pinned, else container when an engine answers."""
    pinned = str(getattr(settings, "MESA_SANDBOX_DEFAULT", "auto") or "auto")
    if pinned in ("host", "container"):
        return pinned
    return "container" if engine_answers() else "host"


def worker_image() -> str:
    return str(getattr(settings, "MESA_WORKER_IMAGE", "") or "localhost/mesa-worker:latest")


def instance_id() -> str:
    """This Mesa's mark on its containers (label ``mesa.instance``): start-up recovery removes only its own.

    ``MESA_INSTANCE_ID``, else derived from the code's location and the database, so two Mesas sharing an
    engine never remove each other's containers.
    """
    pinned = str(getattr(settings, "MESA_INSTANCE_ID", "") or "")
    if pinned:
        return pinned
    database = settings.DATABASES["default"]
    seed = f"{settings.BASE_DIR}|{database.get('HOST', '')}|{database.get('NAME', '')}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]
