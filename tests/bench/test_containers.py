"""``make bench``'s container figure: measured on an engine, skipped with its reason without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import containers


def test_it_skips_with_a_reason_when_no_engine_answers_and_podman_is_absent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")
    monkeypatch.setenv("PATH", str(tmp_path))  # no podman to start either
    assert containers.main() == {"skipped": "no container engine answers (DOCKER_HOST) and podman is not installed"}


@pytest.mark.slow
def test_it_measures_the_first_output_of_a_container_run_against_a_host_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")  # so it starts its own podman
    monkeypatch.setattr(containers, "RUNS", 2)
    result = containers.main()
    if "skipped" in result:
        pytest.skip(result["skipped"])
    assert result["engine"] == "Podman Engine" and result["runs"] == 2
    assert result["container"]["p50_ms"] > 0 and result["host"]["p50_ms"] > 0
