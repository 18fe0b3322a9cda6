"""The concurrent benchmarks' client: N keep-alive HTTP/1.1 connections driven by one asyncio loop.

The client shares the machine's two cores with the server, so it must cost little and must not add its own
queueing to the figures. Ten (or fifty) ``http.client`` threads did both: each response goes through
``email``'s header parser, and every thread that got its answer waited for the GIL behind the others — GET
one issue at 10 clients had a p99 of 92 ms with 1.75 ms of server CPU per request. Here one thread writes
each request as prepared bytes and reads the status line, ``Content-Length`` (or chunks) and the body.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any


class AsyncClient:
    """One keep-alive connection speaking JSON with a bearer key (``await connect()`` first)."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 22)

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, float]:
        """(status, body, seconds from the first byte written to the last byte read)."""
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} /api/v1/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        for attempt in range(2):
            if self.writer is None:
                await self.connect()
            assert self.reader is not None and self.writer is not None
            start = time.perf_counter()
            try:
                self.writer.write(head + data)
                status, payload = await self._response()
                return status, payload, time.perf_counter() - start
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.writer.close()
                self.reader = self.writer = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, bytes]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked = None, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            parts: list[bytes] = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    return status, b"".join(parts)
                parts.append(chunk[:-2])
        return status, await self.reader.readexactly(length or 0)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None
