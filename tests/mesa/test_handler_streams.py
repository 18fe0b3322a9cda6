"""Open SSE streams cost the server no thread each (mesa/handler.py: they share one)."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import Server, prepare_db, start_daphne


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start_daphne(prepare_db(tmp_path), tmp_path / "daphne.log")
    yield running
    running.stop()


def _threads(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def _open_stream(server: Server) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/events?org=mesa", headers={"Accept": "text/event-stream"})
    response = conn.getresponse()
    assert response.status == 200
    assert response.readline()  # the stream has started: its request went through the middleware
    return conn


def test_it_serves_thirty_open_streams_without_a_thread_each(server: Server) -> None:
    first = [_open_stream(server) for _ in range(2)]  # the hub's reader and the streams' thread exist now
    before = _threads(server.proc.pid)
    more = [_open_stream(server) for _ in range(30)]
    # Django's own handler keeps a thread per open stream (its per-request context): thirty more.
    assert _threads(server.proc.pid) - before < 5
    for conn in first + more:
        conn.close()
