from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from agents.keys import key_create, key_revoke
from agents.models import Agent, ApiKey, KeyKind
from orgs.actors import Actor
from orgs.models import Org
from tests.factories import make_issue


def _assert_401(r: Any, code: str) -> None:
    assert r.status_code == 401
    assert r["Content-Type"] == "application/json"
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["code"] == code and r.json()["error"]


def test_it_refuses_a_missing_key(call: Any, api_org: Org) -> None:
    _assert_401(call("GET", "issues", None), "missing_key")


def test_it_refuses_another_scheme(call: Any, api_org: Org, board_key: str) -> None:
    _assert_401(call("GET", "issues", None, headers={"authorization": f"Token {board_key}"}), "bad_auth_header")


def test_it_refuses_an_unknown_key(call: Any, api_org: Org, board_key: str) -> None:
    _assert_401(call("GET", "issues", board_key[:-2] + "xx"), "invalid_key")
    _assert_401(call("GET", "issues", "not-even-a-mesa-key"), "invalid_key")


def test_it_refuses_an_expired_key(call: Any, api_org: Org, engineer: Agent) -> None:
    key, raw = key_create(actor=Actor.system(), org=api_org, kind=KeyKind.AGENT, agent=engineer)
    assert call("GET", "agents/me", raw).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _assert_401(call("GET", "agents/me", raw), "invalid_key")


def test_it_refuses_a_revoked_key(call: Any, api_org: Org, engineer: Agent) -> None:
    key, raw = key_create(actor=Actor.system(), org=api_org, kind=KeyKind.AGENT, agent=engineer)
    key_revoke(actor=Actor.system(), key=key)
    _assert_401(call("GET", "inbox", raw), "invalid_key")


def test_it_refuses_run_keys_once_the_run_ends(call: Any, api_org: Org, engineer: Agent) -> None:
    from agents.keys import run_key_create, run_keys_revoke
    from tests.factories import make_run

    run = make_run(engineer)
    raw = run_key_create(org=api_org, agent=engineer, run_id=run.pk, timeout_s=60)
    assert call("GET", "agents/me", raw).json()["slug"] == "engineer"
    run_keys_revoke(run_id=run.pk)
    _assert_401(call("GET", "agents/me", raw), "invalid_key")


def test_it_authenticates_in_one_query(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any, django_assert_num_queries: Any
) -> None:
    raw = agent_key(engineer)
    call("GET", "agents/me", raw)  # the first use stamps last_used_at
    # GET heartbeat is refused after auth with no further query: exactly the key lookup.
    with django_assert_num_queries(1):
        assert call("GET", "heartbeat", raw).status_code == 405


def test_it_stamps_last_used_at_at_most_once_a_minute(call: Any, api_org: Org, engineer: Agent) -> None:
    key, raw = key_create(actor=Actor.system(), org=api_org, kind=KeyKind.AGENT, agent=engineer)
    call("GET", "agents/me", raw)
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    call("GET", "agents/me", raw)
    key.refresh_from_db()
    assert key.last_used_at == first


def test_it_only_shows_a_key_its_own_org(
    call: Any, api_org: Org, other_org: Org, outsider: Agent, agent_key: Any
) -> None:
    ours = make_issue(api_org, title="Ours")
    _, board_other = key_create(actor=Actor.system(), org=other_org, kind=KeyKind.BOARD)
    for raw in (agent_key(outsider), board_other):
        assert call("GET", f"issues/{ours.key}", raw).status_code == 404
        assert call("PATCH", f"issues/{ours.key}", raw, {"title": "Mine now"}).status_code == 404
        assert call("DELETE", f"issues/{ours.key}", raw).status_code == 404
        assert call("GET", "issues", raw).json()["results"] == []
        assert call("GET", "agents/engineer", raw).status_code == 404
    ours.refresh_from_db()
    assert ours.title == "Ours"
