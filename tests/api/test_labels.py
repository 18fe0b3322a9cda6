from __future__ import annotations

from typing import Any

from agents.models import Agent
from issues.models import Label
from orgs.models import Event, Org
from tests.factories import make_label


def test_it_lists_labels(call: Any, api_org: Org, engineer: Agent, agent_key: Any, outsider: Agent) -> None:
    make_label(api_org, name="bug", color="#e5484d")
    make_label(api_org, name="api")
    make_label(outsider.org, name="theirs")
    body = call("GET", "labels", agent_key(engineer)).json()
    assert [(lab["name"], lab["color"]) for lab in body["results"]] == [("api", "#8b8d98"), ("bug", "#e5484d")]
    assert body["count"] == 2


def test_it_lets_anyone_in_the_org_create_a_label(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    r = call("POST", "labels", agent_key(engineer), {"name": "perf", "color": "#00ff00"})
    assert r.status_code == 201 and r.json()["name"] == "perf"
    assert Label.objects.filter(org=api_org, name="perf").exists()
    assert Event.objects.filter(type="label_created", data__name="perf").exists()
    assert call("POST", "labels", agent_key(engineer), {"name": "PERF"}).status_code == 409
    r = call("POST", "labels", agent_key(engineer), {"name": "x", "color": "green"})
    assert r.status_code == 400 and r.json()["field"] == "color"


def test_it_lists_labels_in_a_constant_number_of_queries(
    call: Any, api_org: Org, board_key: str, django_assert_max_num_queries: Any
) -> None:
    for n in range(60):
        make_label(api_org, name=f"label-{n:02d}")
    with django_assert_max_num_queries(4):  # auth + touch, rows, count (the page is full)
        body = call("GET", "labels?limit=50", board_key).json()
    assert len(body["results"]) == 50 and body["count"] == 60 and body["next"]
