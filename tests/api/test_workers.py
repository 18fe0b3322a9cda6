"""GET /api/v1/workers: the org's persistent workers, read-only (driving them is the operator's, not a key's)."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Agent
from orgs.models import Org
from runners.models import Worker, WorkerStatus
from runners.workers import WorkerFile, worker_add
from tests.factories import SYSTEM, make_agent


def _worker(org: Org, name: str, agent: str) -> Worker:
    make_agent(org, slug=agent, runner="command", sandbox="container", model="true")
    spec = WorkerFile(name=name, org=org.slug, agent=agent, memory="512m", env_refs={})
    return worker_add(actor=SYSTEM, spec=spec)


@pytest.fixture
def workers(api_org: Org, other_org: Org) -> list[Worker]:
    return [
        _worker(api_org, "api-box", "box"),
        _worker(api_org, "api-crate", "crate"),
        _worker(other_org, "oth", "box"),
    ]


def test_it_lists_the_orgs_workers_to_a_board_key(call: Any, board_key: str, workers: list[Worker]) -> None:
    Worker.objects.filter(name="api-box").update(status=WorkerStatus.FAILED, last_error="restart failed: gone")

    r = call("GET", "workers", board_key)

    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2 and [w["name"] for w in body["results"]] == ["api-box", "api-crate"]
    first = body["results"][0]
    assert first["agent"] == "box" and first["status"] == "failed" and first["last_error"] == "restart failed: gone"
    assert first["memory"] == "512m" and first["health_at"] is None
    assert "env_refs" not in first and "container_id" not in first


def test_it_shows_an_agent_key_only_its_own_worker(
    call: Any, agent_key: Any, api_org: Org, workers: list[Worker]
) -> None:
    crate = Agent.objects.get(org=api_org, slug="crate")
    body = call("GET", "workers", agent_key(crate)).json()
    assert [w["name"] for w in body["results"]] == ["api-crate"]


def test_it_shows_another_orgs_key_none_of_this_orgs_workers(
    call: Any, agent_key: Any, outsider: Agent, workers: list[Worker]
) -> None:
    body = call("GET", "workers", agent_key(outsider)).json()
    assert body["results"] == [] and "api-box" not in str(body)


def test_it_starts_nothing_stops_nothing_adds_nothing(call: Any, board_key: str, workers: list[Worker]) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = call(method, "workers", board_key, json={"name": "api-box", "action": "start"})
        assert r.status_code == 405, method
        assert r.json()["code"] == "method_not_allowed" and r.json()["error"]
    assert call("POST", "workers/api-box/start", board_key).status_code == 404
    assert Worker.objects.filter(status=WorkerStatus.STOPPED).count() == 3
