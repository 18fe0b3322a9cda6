"""The only way out of a run's container: TCP relays listening inside its network namespace.

A container runs with ``network_mode="none"``: its namespace has a loopback interface and nothing
else, so no packet can leave it. Mesa (on the host) creates a listening socket *inside* that
namespace for each endpoint the run may reach (the Mesa API; the model API when the agent's
``egress`` allows it) and relays each accepted connection to the real endpoint from the host. A
socket belongs to the namespace it was created in, so one short-lived thread enters the container's
namespace (``setns``), creates the listener and ends; the relay threads stay in the host's.

Nothing else is reachable: a host service on another loopback port is not in the container's
namespace, and no route leaves it. On a plain-HTTP endpoint with ``paths`` (the Mesa API) each
request's target must start with one of them (the API and ``/mcp``, not the dashboard); anything
else gets 403 and the connection is closed. A TLS endpoint (a model API) is relayed as bytes.

Needs an engine on this machine (the container's ``/proc/PID``) and the privilege to enter its
namespace (root, or the user that owns a rootless engine).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import threading
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
_BUFFER = 65536


class RelayError(RuntimeError):
    pass


@dataclass(frozen=True)
class Endpoint:
    """``listen_ip:port`` inside the container relays to ``host:target_port`` as seen from the Mesa machine
    (``port`` 0: a free port the kernel picks, as a run in a persistent worker has)."""

    listen_ip: str
    port: int
    host: str
    target_port: int
    paths: tuple[str, ...] = ()  # plain HTTP: the request targets allowed (empty: relay bytes as they are)


def _listen_in(pid: int, ip: str, port: int) -> socket.socket:
    """A listening socket on ``ip:port`` in the network namespace of process ``pid``."""
    result: dict[str, object] = {}

    def enter_and_listen() -> None:
        # This thread alone enters the namespace and ends right after: no other code runs in it.
        try:
            fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, os.strerror(err))
            finally:
                os.close(fd)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((ip, port))
            sock.listen(64)
            result["sock"] = sock
        except OSError as exc:
            result["error"] = exc

    thread = threading.Thread(target=enter_and_listen, name=f"mesa-netns-{pid}", daemon=True)
    thread.start()
    thread.join()
    sock = result.get("sock")
    if not isinstance(sock, socket.socket):
        raise RelayError(f"cannot listen on {ip}:{port} inside the container: {result.get('error')}")
    return sock


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(_BUFFER):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


_MAX_HEAD = 65536


def _refuse(conn: socket.socket, status: str, why: str) -> None:
    body = f"{why}\n".encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    with contextlib.suppress(OSError):
        conn.sendall(head.encode() + body)


def _gate(src: socket.socket, dst: socket.socket, paths: tuple[str, ...]) -> None:
    """Relay HTTP/1.1 requests from ``src`` whose target starts with one of ``paths``; refuse the first other."""
    buffer = b""
    try:
        while True:
            while b"\r\n\r\n" not in buffer:
                if len(buffer) > _MAX_HEAD:
                    return _refuse(src, "431 Request Header Fields Too Large", "request head too large")
                data = src.recv(_BUFFER)
                if not data:
                    return None
                buffer += data
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            target = parts[1] if len(parts) == 3 else ""
            if not target.startswith(paths):
                return _refuse(src, "403 Forbidden", f"a run reaches only the Mesa API ({', '.join(paths)})")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            if "transfer-encoding" in headers:
                return _refuse(src, "411 Length Required", "send a Content-Length (no chunked bodies)")
            try:
                length = int(headers.get("content-length") or 0)
            except ValueError:
                return _refuse(src, "400 Bad Request", "bad Content-Length")
            dst.sendall(head + b"\r\n\r\n")
            while length > 0:
                if not buffer:
                    buffer = src.recv(_BUFFER)
                    if not buffer:
                        return None
                chunk, buffer = buffer[:length], buffer[length:]
                dst.sendall(chunk)
                length -= len(chunk)
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


class Relays:
    """The relays of one run; :meth:`close` stops them all (the run's end)."""

    def __init__(self) -> None:
        self._listeners: list[socket.socket] = []
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.closed = threading.Event()

    def open(self, pid: int, endpoint: Endpoint) -> int:
        """Listen for ``endpoint`` in the namespace of ``pid``; returns the port (the kernel's pick for port 0)."""
        listener = _listen_in(pid, endpoint.listen_ip, endpoint.port)
        self._listeners.append(listener)
        threading.Thread(target=self._accept, args=(listener, endpoint), daemon=True).start()
        return int(listener.getsockname()[1])

    def _accept(self, listener: socket.socket, endpoint: Endpoint) -> None:
        while not self.closed.is_set():
            try:
                inside, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(inside, endpoint), daemon=True).start()

    def _relay(self, inside: socket.socket, endpoint: Endpoint) -> None:
        try:
            outside = socket.create_connection((endpoint.host, endpoint.target_port), timeout=10)
        except OSError:
            inside.close()
            return
        outside.settimeout(None)
        with self._lock:
            self._conns.update((inside, outside))
        back = threading.Thread(target=_pipe, args=(outside, inside), daemon=True)
        back.start()
        if endpoint.paths:
            _gate(inside, outside, endpoint.paths)
        else:
            _pipe(inside, outside)
        back.join()
        with self._lock:
            self._conns.difference_update((inside, outside))
        inside.close()
        outside.close()

    def close(self) -> None:
        self.closed.set()
        for listener in self._listeners:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
