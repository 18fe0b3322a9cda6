"""API: hooks (create with the secret once, rotate), rules, and the pipeline log with filters and cursor pages."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from django.test import Client

from agents.models import Agent
from hooks.models import Hook
from hooks.secrets import unseal
from orgs.models import Org
from tests.api.conftest import Call
from tests.hooks.payloads import github_issue_opened


def _deliver(client: Client, path: str, secret: str, payload: dict[str, Any], delivery: str) -> Any:
    body = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(path, data=body, content_type="application/json", HTTP_X_GITHUB_EVENT="issues",
                       HTTP_X_GITHUB_DELIVERY=delivery, HTTP_X_HUB_SIGNATURE_256=sig)  # fmt: skip


def test_it_creates_a_hook_and_returns_the_secret_only_then(call: Call, board_key: str, api_org: Org) -> None:
    resp = call("POST", "hooks", board_key, {"name": "gh", "source": "github"})
    listed = call("GET", "hooks", board_key)

    assert resp.status_code == 201
    hook = Hook.objects.get(org=api_org)
    assert resp.json()["secret"] == unseal(hook.secret_sealed)
    assert resp.json()["path"] == f"/hooks/api-org/github/{hook.public_id}"
    assert "secret" not in listed.json()[0]
    rotated = call("POST", f"hooks/{hook.pk}/rotate", board_key)
    assert rotated.json()["secret"] != resp.json()["secret"]


def test_it_lets_only_board_keys_manage_hooks_and_rules(
    call: Call, agent_key: Callable[[Agent], str], engineer: Agent, outsider: Agent, board_key: str
) -> None:
    key = agent_key(engineer)
    assert call("POST", "hooks", key, {"name": "gh", "source": "github"}).status_code == 403
    rule = {"name": "r", "source": "github", "events": ["issues.opened"]}
    assert call("POST", "hook-rules", key, rule).status_code == 403
    hook_id = call("POST", "hooks", board_key, {"name": "gh", "source": "github"}).json()["id"]
    # Another org's key is refused (agent keys never manage hooks), and the hook's secret stays as it was.
    before = Hook.objects.get(pk=hook_id).secret_sealed
    assert call("POST", f"hooks/{hook_id}/rotate", agent_key(outsider)).status_code == 403
    assert Hook.objects.get(pk=hook_id).secret_sealed == before


def test_it_logs_a_story_filterable_and_cursor_paged(
    client: Client, call: Call, board_key: str, api_org: Org, engineer: Agent, other_org: Org
) -> None:
    call("POST", "labels", board_key, {"name": "agent"})
    created = call("POST", "hooks", board_key, {"name": "gh", "source": "github"}).json()
    rule = call("POST", "hook-rules", board_key, {
        "name": "triage", "source": "github", "events": ["issues.opened"], "filters": {"labels_contain": ["agent"]},
        "assignee": engineer.slug, "labels": ["agent"], "title_template": "{{ issue.title }}",
    })  # fmt: skip
    assert rule.status_code == 201, rule.json()
    _deliver(client, created["path"], created["secret"], github_issue_opened(), "d-1")
    _deliver(client, created["path"], "wrong", github_issue_opened(), "d-2")

    everything = call("GET", "logs", board_key).json()
    kinds = [e["kind"] for e in everything["results"]]
    assert kinds == ["refused", "issue_created", "rule_matched", "received"]
    made = call("GET", "logs?kind=issue_created", board_key).json()["results"]
    assert made[0]["issue"] == "API-1" and made[0]["agent"] == engineer.slug
    assert [e["kind"] for e in call("GET", f"logs?agent={engineer.slug}", board_key).json()["results"]] == [
        "issue_created"
    ]
    first = call("GET", "logs?limit=2", board_key).json()
    second = call("GET", f"logs?limit=2&cursor={first['next_cursor']}", board_key).json()
    assert [e["kind"] for e in first["results"] + second["results"]] == kinds
    assert call("GET", "logs?kind=nonsense", board_key).status_code == 400


def test_it_manages_routines_and_output_policies_through_the_api(
    call: Call, board_key: str, agent_key: Callable[[Agent], str], engineer: Agent
) -> None:
    routine = {"name": "triage", "agent": engineer.slug, "cron": "*/30 * * * *", "timezone": "Europe/Paris",
               "title_template": "Triage {{ time }}"}  # fmt: skip
    made = call("POST", "routines", board_key, routine)
    assert made.status_code == 201, made.json()
    assert made.json()["next_fire_at"] and made.json()["last_fire_at"] is None
    ran = call("POST", f"routines/{made.json()['id']}/run", board_key)
    assert ran.json()["last_issue"] == "API-1" and ran.json()["last_fire_at"]
    assert call("POST", "routines", board_key, {"name": "x", "agent": engineer.slug, "cron": "nope",
                                                "title_template": "t"}).json()["field"] == "cron"  # fmt: skip
    assert call("POST", f"routines/{made.json()['id']}/run", agent_key(engineer)).status_code == 403

    assert call("GET", f"agents/{engineer.slug}/output-policy", board_key).status_code == 404
    policy = {"max_comment_length": 500, "labels_denied": ["approved"]}
    put = call("PUT", f"agents/{engineer.slug}/output-policy", board_key, policy)
    assert put.status_code == 200 and put.json()["labels_denied"] == ["approved"]
    assert call("PUT", f"agents/{engineer.slug}/output-policy", agent_key(engineer), policy).status_code == 403
