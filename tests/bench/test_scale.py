"""The scale-mode soak (bench/scale.py) on a real PostgreSQL server, small: its report says every run ran once."""

from __future__ import annotations

import pytest

from bench import scale

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_it_reports_a_small_soak_over_three_schedulers_and_two_web_workers() -> None:
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(f"{scale.SERVER}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {scale.SERVER} ({exc})")
    result = scale.main(runs=24, request_figures=False)
    assert result["schedulers"] == 3 and result["web_workers"] == 2
    assert result["create"]["errors"] == 0
    soak = result["soak"]
    assert soak["assigned_issues"] == 24 and soak["completed_runs"] == 24
    assert soak["double_dispatch"] == 0 and soak["lost_runs"] == 0 and soak["stuck_issues"] == 0
    assert sum(soak["runs_per_scheduler"]) == 24
    assert "scheduler_exits" not in result  # every scheduler was still running at the end
