"""Request bodies are limited where daphne (Twisted) reads them, before the application sees anything.

Daphne buffers the whole body before it hands it to the ASGI application, so a limit in Django or
in ASGI middleware comes too late: a 2 GB upload without a key was read in full before its 401.
``LimitedRequest`` refuses a declared ``Content-Length`` over ``MESA_MAX_BODY_BYTES`` as soon as the
headers are in, and counts the bytes of a chunked body as they arrive, with a 413 (JSON, like the
API's) and the connection closed. A chunked body within the limit is passed on with the
``Content-Length`` it turned out to have: without one, Django read it as empty, and a chunked PATCH
answered 200 having changed nothing.

:func:`install` makes daphne's HTTP factory build ``LimitedRequest`` (``mesa.asgi`` calls it, so it
holds for ``make run`` and for ``daphne mesa.asgi:application`` alike).
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

TOO_LARGE = json.dumps({"error": "The request body is too large.", "code": "too_large"}).encode()


def max_body_bytes() -> int:
    return int(os.environ.get("MESA_MAX_BODY_BYTES") or 1_048_576)


def install() -> None:
    from daphne import http_protocol  # only where daphne serves: Twisted stays out of other processes

    if getattr(http_protocol.HTTPFactory, "_mesa_limited", False):
        return

    class LimitedRequest(http_protocol.WebRequest):
        _mesa_limit = max_body_bytes()

        def gotLength(self, length: int | None) -> None:
            self._mesa_received = 0
            self._mesa_refused = False
            self._mesa_chunked = length is None
            if length is not None and length > self._mesa_limit:
                self.content = io.BytesIO()
                self._mesa_refuse()
                return
            super().gotLength(length)

        def handleContentChunk(self, data: bytes) -> None:
            if self._mesa_refused:
                return
            self._mesa_received += len(data)
            if self._mesa_received > self._mesa_limit:
                self._mesa_refuse()
                return
            super().handleContentChunk(data)

        def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
            if getattr(self, "_mesa_refused", False):
                return
            if getattr(self, "_mesa_chunked", False) and self.requestHeaders.hasHeader(b"transfer-encoding"):
                # The body is whole now: say how long it is, as a Content-Length request would.
                self.requestHeaders.removeHeader(b"transfer-encoding")
                self.requestHeaders.setRawHeaders(b"content-length", [str(self._mesa_received).encode()])
            super().requestReceived(command, path, version)

        def _mesa_refuse(self) -> None:
            self._mesa_refused = True
            self.content = io.BytesIO()
            transport = self.channel.transport
            transport.write(
                b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(TOO_LARGE)}\r\n".encode()
                + b"Connection: close\r\n\r\n"
                + TOO_LARGE
            )
            transport.loseConnection()

    original = http_protocol.HTTPFactory.buildProtocol

    def buildProtocol(self: Any, addr: Any) -> Any:
        protocol = original(self, addr)
        protocol.requestFactory = LimitedRequest
        return protocol

    http_protocol.HTTPFactory.buildProtocol = buildProtocol
    http_protocol.HTTPFactory._mesa_limited = True
