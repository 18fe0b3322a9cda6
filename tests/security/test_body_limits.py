"""Issue 16 items 7 and 8, replayed against a live daphne.

7: a 2 GB POST without a key took the process to 2.16 GB before its 401. Now a declared length over
``MESA_MAX_BODY_BYTES`` is a 413 as soon as the headers are in (the test sends no body at all), and a
chunked body is counted as it arrives.
8: a chunked PATCH answered 200 and changed nothing. Now it is read (within the limit) and applied.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.browser.server import Server, manage, prepare_db, run_python, start_daphne
from tests.browser.test_dashboard import make_issue

LIMIT = 65_536


@pytest.fixture(scope="module")
def mesa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("mesa-body")
    server = start_daphne(prepare_db(directory), directory / "daphne.log", MESA_MAX_BODY_BYTES=str(LIMIT))
    yield server
    server.stop()


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_a_declared_length_over_the_limit_is_refused_before_any_body_or_key(mesa: Server) -> None:
    with socket.create_connection(("127.0.0.1", mesa.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/issues HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2147483648\r\n\r\n"
        )  # headers only: the answer must come without the body
        status, body = read_answer(sock)
    assert status == 413 and json.loads(body)["code"] == "too_large"


def test_a_chunked_body_over_the_limit_is_refused_while_it_arrives(mesa: Server) -> None:
    chunk = b"x" * 16_384
    with socket.create_connection(("127.0.0.1", mesa.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/issues HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        try:
            while sent <= LIMIT + len(chunk):  # a little over the limit, then the answer
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, body = read_answer(sock)
    assert status == 413 and json.loads(body)["code"] == "too_large"


def test_a_chunked_patch_within_the_limit_is_read_and_applied(mesa: Server) -> None:
    key = make_issue(mesa, "Before the chunked patch")
    token = manage(mesa.db, "board-key", "--name", "chunked").strip().splitlines()[-1]
    payload = json.dumps({"title": "After the chunked patch"}).encode()
    halves = [payload[:10], payload[10:]]
    with socket.create_connection(("127.0.0.1", mesa.port), timeout=10) as sock:
        sock.sendall(
            f"PATCH /api/v1/issues/{key} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
            + b"".join(b"%x\r\n%s\r\n" % (len(h), h) for h in halves)
            + b"0\r\n\r\n"
        )
        status, _ = read_answer(sock)
    assert status == 200
    title = run_python(mesa.db, f"from issues.models import Issue\nprint(Issue.objects.get(key={key!r}).title)")
    assert title.strip() == "After the chunked patch"
