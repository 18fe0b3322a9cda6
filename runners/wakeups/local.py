"""Wake-ups over a Unix datagram socket on this machine (SQLite's default): see ``runners.wake``."""

from __future__ import annotations

from runners.wake import WakeSocket, send_datagram


def notify() -> None:
    send_datagram()


class Listener:
    def __init__(self) -> None:
        self._socket = WakeSocket()

    def fileno(self) -> int:
        return self._socket.sock.fileno() if self._socket.sock is not None else -1

    def drain(self) -> None:
        self._socket.drain()

    def close(self) -> None:
        self._socket.close()
