"""Issue 16 item 9, replayed against a live daphne: errors outside the happy path.

The attacks: an unknown path under /api/ (the HTML 404 page), 100k-deep JSON, a database locked
past its timeout (500 HTML pages), ``/static/../`` (a 500 with a traceback), and a bad Host header
(a traceback in the log per request).
"""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from mesa.middleware import ApiErrorsMiddleware
from tests.browser.server import Server, manage, prepare_db, start_daphne


@pytest.fixture(scope="module")
def mesa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("mesa-errors")
    server = start_daphne(prepare_db(directory), directory / "daphne.log", MESA_DB_BUSY_TIMEOUT_S="0.5")
    yield server
    server.stop()


def raw(server: Server, request: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 exchange over a socket (paths are sent exactly as written, ``..`` included)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request.encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        out, rest = b"", payload
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2 :]
        payload = out
    return int(lines[0].split()[1]), headers, payload


def get(server: Server, path: str, *, host: str = "127.0.0.1", key: str = "") -> tuple[int, dict[str, str], bytes]:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return raw(server, f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n")


def send(server: Server, method: str, path: str, body: bytes, key: str) -> tuple[int, dict[str, str], bytes]:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return raw(server, head, body)


def board_key(server: Server) -> str:
    return manage(server.db, "board-key", "--name", "errors").strip().splitlines()[-1]


def test_an_unknown_api_path_is_a_json_404(mesa: Server) -> None:
    status, headers, body = get(mesa, "/api/v1/nope")
    assert status == 404 and headers["content-type"].startswith("application/json")
    assert json.loads(body)["code"] == "not_found"


@pytest.mark.parametrize("path", ["/static/../mesa.db", "/static/%2e%2e/mesa/settings.py", "/static/../../etc/passwd"])
def test_a_static_path_outside_the_static_root_is_a_404(mesa: Server, path: str) -> None:
    status, _, body = get(mesa, path)
    assert status == 404 and b"SECRET" not in body and b"Traceback" not in body


def test_deeply_nested_json_is_a_400_not_a_500(mesa: Server) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    status, headers, payload = send(mesa, "POST", "/api/v1/issues", body, board_key(mesa))
    assert status == 400 and headers["content-type"].startswith("application/json")
    assert json.loads(payload)["code"] == "too_deep"
    # Nesting inside a string is text, not depth: an ordinary body still works.
    ok = json.dumps({"title": "Brackets " + "[" * 200}).encode()
    assert send(mesa, "POST", "/api/v1/issues", ok, board_key(mesa))[0] == 201


def test_a_locked_database_is_a_503_with_retry_after(mesa: Server) -> None:
    key = board_key(mesa)
    holder = sqlite3.connect(mesa.db, timeout=5)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the lock past the server's busy timeout
    try:
        status, headers, payload = send(mesa, "POST", "/api/v1/issues", b'{"title": "While locked"}', key)
    finally:
        holder.rollback()
        holder.close()
    assert status == 503 and headers["retry-after"] == "2"
    assert json.loads(payload) == {"error": "The database is busy; try again in a moment.", "code": "database_busy"}


def test_a_bad_host_is_a_400_with_one_log_line(mesa: Server) -> None:
    before = mesa.log.read_text()
    status, _, _ = get(mesa, "/", host="evil.example")
    assert status == 400
    added = mesa.log.read_text()[len(before) :]
    assert "Invalid HTTP_HOST header: 'evil.example'" in added and "Traceback" not in added


def test_any_other_api_failure_is_a_json_500_without_a_traceback() -> None:
    request = RequestFactory().get("/api/v1/issues")
    middleware = ApiErrorsMiddleware(lambda r: None)  # type: ignore[arg-type,return-value]
    answer = middleware.process_exception(request, RuntimeError("secret internals at /srv/mesa"))
    assert answer is not None and answer.status_code == 500
    assert json.loads(answer.content) == {"error": "Internal error; it was logged.", "code": "server_error"}
    readonly = middleware.process_exception(request, OperationalError("attempt to write a readonly database"))
    assert readonly is not None and readonly.status_code == 503 and readonly["Retry-After"] == "2"
    assert middleware.process_exception(RequestFactory().get("/issues/"), RuntimeError("x")) is None  # pages: Django's
