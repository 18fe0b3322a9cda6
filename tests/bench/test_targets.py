"""``make bench`` prints each measured figure next to Paperclip's and the target, with met/missed (bench/targets.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import __main__ as cli
from bench import targets


def test_it_flags_each_measured_figure_met_or_missed_against_its_target() -> None:
    results = {
        "api": {
            "get_issue": {"p50_ms": 1.5, "p99_ms": 9.0},
            "post_comment_concurrent": {"req_per_s": 650.0, "p99_ms": 55.0},
            "checkout_race": {"double_claims": 0},
        },
        "sse": {"sse_latency": [{"clients": 1, "p95_ms": 500.0}, {"clients": 200, "p95_ms": 80.0}]},
        "scale": {"soak": {"double_dispatch": 1, "lost_runs": 0}},
    }
    rows = {row["source"]: row for row in targets.comparison(results)}
    assert rows["api.get_issue.p50_ms"]["met"] is True  # 1.5 <= 2
    assert rows["api.get_issue.p99_ms"]["met"] is False  # 9 > 6
    assert rows["api.post_comment_concurrent.req_per_s"]["met"] is True  # higher is better
    assert rows["api.post_comment_concurrent.p99_ms"]["met"] is False
    assert rows["api.checkout_race.double_claims"]["met"] is True
    assert rows["sse.sse_latency.-1.p95_ms"]["met"] is True  # the round with the most clients
    assert rows["scale.soak.double_dispatch"]["met"] is False
    assert rows["scale.soak.lost_runs"]["met"] is True
    row = rows["api.get_issue.p50_ms"]
    assert row["target"] == "<= 2" and row["paperclip"] == "18.8–26 ms" and row["mesa"] == 1.5
    assert "api.list_500_issues.p50_ms" not in rows  # not measured this time: no row


def test_it_leaves_the_scale_soak_out_of_the_default_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []

    def fake(name: str) -> Any:
        def main(**kw: Any) -> dict[str, Any]:
            ran.append(name)
            return {"ran": name, **kw}

        return main

    for name in ("api", "dispatch", "scale", "startup", "sse", "ui", "containers"):
        monkeypatch.setattr(__import__(f"bench.{name}", fromlist=["main"]), "main", fake(name))
    assert cli.main([]) == 0
    assert "scale" not in ran and {"api", "dispatch", "startup", "sse"} <= set(ran)
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert "comparison" in out
    ran.clear()
    assert cli.main(["--scale", "--runs", "50"]) == 0
    assert ran == ["scale"]
    assert json.loads(capsys.readouterr().out)["scale"] == {"ran": "scale", "runs": 50}
