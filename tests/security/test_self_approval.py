"""Issue 16 item 3 replayed: the CEO named another agent as reviewer of its own request and approved it itself."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from agents.keys import key_create
from agents.models import KeyKind
from approvals.models import Approval
from orgs.actors import Actor
from tests.factories import make_agent, make_ceo, make_org

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("tests")


def _post(client: Client, path: str, key: str, body: dict[str, object]) -> object:
    return client.post(
        "/api/v1/" + path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"authorization": f"Bearer {key}"},
    )


def test_it_refuses_the_ceo_deciding_its_own_request_addressed_to_another_agent(client: Client) -> None:
    org = make_org(slug="victim")
    ceo = make_ceo(org)
    make_agent(org, slug="qa", archetype="qa", reports_to=ceo)
    _, key = key_create(actor=SYSTEM, org=org, kind=KeyKind.AGENT, agent=ceo, name="attack")
    asked = _post(client, "approvals", key, {"title": "Wire the money", "reviewer": "qa"})
    assert asked.status_code == 201, asked.content  # type: ignore[attr-defined]
    approval_id = asked.json()["id"]  # type: ignore[attr-defined]
    resp = _post(client, f"approvals/{approval_id}/resolve", key, {"decision": "approved"})
    assert resp.status_code == 403, resp.content  # type: ignore[attr-defined]
    assert resp.json()["code"] == "forbidden"  # type: ignore[attr-defined]
    assert Approval.objects.get(pk=approval_id).status == "pending"
