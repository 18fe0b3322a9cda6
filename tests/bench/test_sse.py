"""The SSE benchmark's client: every update is stamped once, whichever way the bytes are split."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench import sse
from tests.browser.server import prepare_db, start_daphne


def test_it_stamps_each_update_once_across_reads_split_anywhere() -> None:
    frames = b"".join(
        f'id: {i}\nevent: issue_updated\ndata: {{"title":"bench-sse t1 {i}","old":"bench-sse t1 {i - 1}"}}\n\n'.encode()
        for i in (7, 8, 12)
    )

    async def feed() -> dict[int, float]:
        arrivals: dict[int, float] = {}
        loop = asyncio.get_running_loop()
        stream = sse._Stream("t1", arrivals, asyncio.Event(), loop.create_future())
        for cut in range(0, len(frames), 13):  # reads cut through prefixes and numbers
            stream.data_received(frames[cut : cut + 13])
        stream.data_received(b": keepalive\n\n")
        return arrivals

    assert sorted(asyncio.run(feed())) == [6, 7, 8, 11, 12]


def test_it_measures_every_update_at_every_client_of_a_real_server(tmp_path: Path) -> None:
    db = prepare_db(tmp_path)
    server = start_daphne(db, tmp_path / "daphne.log")
    try:
        row = asyncio.run(sse._round(server.port, server.proc.pid, db, 3, "t"))
    finally:
        server.stop()
    assert row["missing"] == 0 and row["samples"] == 3 * sse.UPDATES
    assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["max_ms"]
