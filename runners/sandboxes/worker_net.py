"""A run's network in a persistent worker: its own relays, on ports the kernel picks, in the worker's namespace.

The runs of an agent share its worker's network namespace. A run container's relay listens on the port of the
URL it relays (the Mesa API on ``127.0.0.1:8000`` inside as outside), so in a worker a second run at the same
time could not bind that address while the first held it, and the first run's end would close it under the
second. In a worker, each endpoint a run is given by a variable (``MESA_API_URL``, a model base URL variable)
gets a listener of its own on port 0 (the kernel picks a free one) and the variable names that port: the run
reaches Mesa only through its own relay, which closes at its end without touching the others'.

A model API a CLI reaches by its built-in name (no base URL variable) cannot move: the name resolves (the
worker's ``/etc/hosts``, fixed when it starts) to one loopback address and the CLI connects to its default
port. That relay relays bytes (TLS) to the same place for every run of the agent, so the worker's runs in this
process share it: the first opens it, the last closes it.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

from runners.sandboxes.container import MODEL_URL_VARS, NetworkPlan, network_plan
from runners.sandboxes.relay import Endpoint, Relays

_URL_VARS = ("MESA_API_URL", *MODEL_URL_VARS)
# (container pid, listen ip, port) -> the shared relay and how many runs hold it.
_shared: dict[tuple[int, str, int], tuple[Relays, int]] = {}
_shared_lock = threading.Lock()


def _listen_ip(plan: NetworkPlan, host: str) -> str:
    """The address inside that a URL's host names (as :meth:`NetworkPlan.add` chose it)."""
    if host in plan.extra_hosts:
        return plan.extra_hosts[host]
    return "127.0.0.1" if host == "localhost" else host


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{parts.hostname}:{port}"))


class RunNetwork:
    """One run's relays in a worker and its holds on the worker's shared ones; :meth:`close` releases both."""

    def __init__(self) -> None:
        self.own = Relays()
        self._held: list[tuple[int, str, int]] = []

    def open(self, pid: int, env: dict[str, str], *, runner: str, egress: str) -> dict[str, str]:
        """Open the run's relays in the namespace of ``pid``; returns its environment with the URLs inside.

        Raises :class:`runners.sandboxes.relay.RelayError` when a listener cannot be made."""
        plan, inside = network_plan(env, runner=runner, egress=egress)
        ports: dict[Endpoint, int] = {}
        for name in _URL_VARS:
            url = inside.get(name, "")
            parts = urlsplit(url)
            if not parts.hostname or parts.scheme not in ("http", "https"):
                continue
            port = parts.port or (443 if parts.scheme == "https" else 80)
            ip = _listen_ip(plan, parts.hostname)
            endpoint = next((e for e in plan.endpoints if e.listen_ip == ip and e.port == port), None)
            if endpoint is None:
                continue
            if endpoint not in ports:
                ports[endpoint] = self.own.open(pid, replace(endpoint, port=0))
            inside[name] = _with_port(url, ports[endpoint])
        for endpoint in plan.endpoints:
            if endpoint not in ports:
                self._hold(pid, endpoint)
        return inside

    def _hold(self, pid: int, endpoint: Endpoint) -> None:
        key = (pid, endpoint.listen_ip, endpoint.port)
        with _shared_lock:
            relays, count = _shared.get(key) or (None, 0)
            if relays is None:
                relays = Relays()
                relays.open(pid, endpoint)
            _shared[key] = (relays, count + 1)
            self._held.append(key)

    def close(self) -> None:
        self.own.close()
        with _shared_lock:
            for key in self._held:
                relays, count = _shared.pop(key)
                if count > 1:
                    _shared[key] = (relays, count - 1)
                else:
                    with contextlib.suppress(OSError):
                        relays.close()
            self._held.clear()
