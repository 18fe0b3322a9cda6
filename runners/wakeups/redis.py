"""Wake-ups through Redis pub/sub (``MESA_REDIS_URL`` or ``REDIS_URL``), spoken directly in RESP.

Two commands are all it takes (``PUBLISH`` and ``SUBSCRIBE``), so this needs no client library. The
channel is named after the database, so two Mesa installs sharing one Redis do not wake each other.
A writer keeps one connection per process (a lock makes it thread-safe; a 0.5 s timeout keeps a hung
Redis from holding up a request). The scheduler's subscribed socket is what it waits on; any bytes on
it mean "look now".
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import threading
import time
from urllib.parse import unquote, urlsplit

from django.conf import settings

log = logging.getLogger(__name__)

TIMEOUT_S = 0.5
RETRY_S = 5.0
_lock = threading.Lock()
_sender: socket.socket | None = None


def channel() -> str:
    name = str(settings.DATABASES["default"].get("NAME") or "")
    return "mesa:wake:" + hashlib.sha256(name.encode()).hexdigest()[:12]


def command(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        raw = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


def _connect(timeout: float) -> socket.socket:
    url = urlsplit(str(settings.MESA_REDIS_URL))
    if url.scheme not in ("redis", ""):
        raise ValueError(f"only redis:// URLs are supported, not {url.scheme}://")
    sock = socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=timeout)
    setup = []
    if url.password:
        auth = [unquote(url.username)] if url.username else []
        setup.append(command("AUTH", *auth, unquote(url.password)))
    db = url.path.strip("/")
    if db and db != "0":
        setup.append(command("SELECT", db))
    for cmd in setup:
        sock.sendall(cmd)
        reply = _line(sock)
        if not reply.startswith(b"+"):
            sock.close()
            raise OSError(f"redis refused: {reply!r}")
    return sock


def _line(sock: socket.socket) -> bytes:
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise OSError("redis closed the connection")
        buf += chunk
    return buf


def notify() -> None:
    global _sender
    with _lock:
        for attempt in range(2):
            try:
                if _sender is None:
                    _sender = _connect(TIMEOUT_S)
                _sender.sendall(command("PUBLISH", channel(), "1"))
                _line(_sender)  # ":<receivers>"
                return
            except OSError:
                if _sender is not None:
                    with contextlib.suppress(OSError):
                        _sender.close()
                _sender = None
                if attempt:
                    raise


class Listener:
    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._next_try = 0.0
        self._subscribe()

    def _subscribe(self) -> None:
        self._next_try = time.monotonic() + RETRY_S
        try:
            sock = _connect(5.0)
            sock.sendall(command("SUBSCRIBE", channel()))
            for _ in range(6):  # the confirmation: *3, $9, subscribe, $<n>, <channel>, :1
                _line(sock)
            sock.setblocking(False)
        except OSError as exc:
            log.warning("redis SUBSCRIBE failed (%s); polling only until it reconnects", exc)
            return
        self._sock = sock

    def fileno(self) -> int:
        if self._sock is None and time.monotonic() >= self._next_try:
            self._subscribe()
        return self._sock.fileno() if self._sock is not None else -1

    def drain(self) -> None:
        if self._sock is None:
            return
        try:
            while True:
                data = self._sock.recv(65536)
                if not data:
                    raise OSError("redis closed the connection")
        except BlockingIOError:
            return
        except OSError:
            log.warning("the redis subscription broke; polling until it reconnects")
            self.close()

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None
