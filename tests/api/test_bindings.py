"""Terminal bindings over the API: who may grant, self-attach, listing, ending, the run's end; tenancy."""

from __future__ import annotations

from collections.abc import Callable

from agents.models import Agent
from orgs.models import Org
from runners.models import Run, RunStatus
from runners.services import run_finish
from tests.api.conftest import Call
from tests.factories import make_run, make_user

AgentKey = Callable[[Agent], str]


def _running(engineer: Agent) -> Run:
    return make_run(engineer, status=RunStatus.RUNNING)


def test_it_lets_the_board_attach_an_agent_to_drive_and_lists_it(
    call: Call, board_key: str, engineer: Agent, designer: Agent
) -> None:
    run = _running(engineer)
    made = call("POST", f"/api/v1/runs/{run.pk}/bindings", board_key, {"mode": "drive", "agent": "designer"})
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["agent"] == "designer" and body["mode"] == "drive" and body["active"] is True
    assert body["websocket"] == f"/ws/runs/{run.pk}/terminal/"
    listed = call("GET", f"/api/v1/runs/{run.pk}/bindings", board_key).json()
    assert [(b["agent"], b["mode"], b["active"]) for b in listed] == [("designer", "drive", True)]


def test_it_lets_a_manager_attach_itself_but_not_a_peer(
    call: Call, agent_key: AgentKey, ceo: Agent, engineer: Agent, designer: Agent
) -> None:
    run = _running(engineer)
    mine = call("POST", f"/api/v1/runs/{run.pk}/bindings", agent_key(ceo), {"mode": "observe"})
    assert mine.status_code == 201 and mine.json()["agent"] == ceo.slug
    refused = call("POST", f"/api/v1/runs/{run.pk}/bindings", agent_key(designer), {"mode": "observe"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_allowed"
    own = call("POST", f"/api/v1/runs/{run.pk}/bindings", agent_key(engineer), {"mode": "drive"})
    assert own.status_code == 403  # not over its own run either


def test_it_attaches_a_member_user_and_refuses_a_stranger(call: Call, board_key: str, engineer: Agent) -> None:
    from orgs.actors import Actor
    from orgs.services import membership_set

    run = _running(engineer)
    alice = make_user(username="alice")
    membership_set(actor=Actor.system(), org=engineer.org, user=alice, role="viewer")
    made = call("POST", f"/api/v1/runs/{run.pk}/bindings", board_key, {"mode": "drive", "user": "alice"})
    assert made.status_code == 201 and made.json()["user"] == "alice"
    make_user(username="bob")  # in no org
    refused = call("POST", f"/api/v1/runs/{run.pk}/bindings", board_key, {"mode": "drive", "user": "bob"})
    assert refused.status_code == 400 and refused.json()["field"] == "user"


def test_it_refuses_another_orgs_agent_and_key(
    call: Call, agent_key: AgentKey, board_key: str, engineer: Agent, designer: Agent, outsider: Agent, other_org: Org
) -> None:
    run = _running(engineer)
    assert call("GET", f"/api/v1/runs/{run.pk}/bindings", agent_key(outsider)).status_code == 404
    attach = call("POST", f"/api/v1/runs/{run.pk}/bindings", agent_key(outsider), {"mode": "drive"})
    assert attach.status_code == 404
    foreign = call("POST", f"/api/v1/runs/{run.pk}/bindings", board_key, {"mode": "drive", "agent": outsider.slug})
    assert foreign.status_code == 400 and foreign.json()["field"] == "agent"  # no such agent in this org
    made = call("POST", f"/api/v1/runs/{run.pk}/bindings", board_key, {"mode": "observe", "agent": "designer"})
    end = call("POST", f"/api/v1/bindings/{made.json()['id']}/end", agent_key(outsider), {})
    assert end.status_code == 404


def test_it_ends_bindings_by_hand_and_when_the_run_ends(
    call: Call, board_key: str, agent_key: AgentKey, engineer: Agent, designer: Agent, qa: Agent
) -> None:
    run = _running(engineer)
    first = call("POST", f"/api/v1/runs/{run.pk}/bindings", board_key, {"mode": "observe", "agent": "designer"})
    second = call("POST", f"/api/v1/runs/{run.pk}/bindings", board_key, {"mode": "drive", "agent": "qa"})
    peer_end = call("POST", f"/api/v1/bindings/{second.json()['id']}/end", agent_key(designer), {})
    assert peer_end.status_code == 403  # neither a grantor nor the holder
    left = call("POST", f"/api/v1/bindings/{first.json()['id']}/end", agent_key(designer), {"reason": "done"})
    assert left.status_code == 200 and left.json()["active"] is False and left.json()["end_reason"] == "done"
    again = call("POST", f"/api/v1/bindings/{first.json()['id']}/end", board_key, {})
    assert again.status_code == 409
    run_finish(run=run, status=RunStatus.COMPLETED)
    listed = call("GET", f"/api/v1/runs/{run.pk}/bindings", board_key).json()
    assert {b["agent"]: (b["active"], b["end_reason"]) for b in listed}["qa"] == (False, "run ended")
    late = call("POST", f"/api/v1/runs/{run.pk}/bindings", board_key, {"mode": "observe", "agent": "qa"})
    assert late.status_code == 409
