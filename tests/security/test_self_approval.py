"""Issue 16 item 3, replayed against a live server: nobody decides their own approval request.

The attack: the CEO asks for an approval naming another agent as reviewer, then approves it itself
(``_may_decide`` skipped the requester check for the CEO when a reviewer was named).
"""

from __future__ import annotations

from typing import Any

import pytest

from agents.keys import key_create
from agents.models import KeyKind
from approvals.models import Approval, ApprovalStatus
from orgs.actors import Actor
from tests.factories import make_agent, make_ceo, make_org
from tests.security.live import fetch

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("tests")


def test_the_ceo_cannot_approve_its_own_request_that_names_another_reviewer(live_server: Any) -> None:
    org = make_org()
    ceo = make_ceo(org)
    qa = make_agent(org, slug="qa", reports_to=ceo)
    _, ceo_key = key_create(actor=SYSTEM, org=org, kind=KeyKind.AGENT, agent=ceo)
    api = f"{live_server.url}/api/v1"

    asked = fetch(f"{api}/approvals", key=ceo_key, method="POST", data={"title": "Ship it", "reviewer": qa.slug})
    assert asked.status == 201, asked.body
    approval_id = asked.json()["id"]

    decided = fetch(f"{api}/approvals/{approval_id}/resolve", key=ceo_key, method="POST", data={"decision": "approved"})
    assert decided.status == 403 and "your own request" in decided.json()["error"]
    assert Approval.objects.get(pk=approval_id).status == ApprovalStatus.PENDING

    # The named reviewer still decides it.
    _, qa_key = key_create(actor=SYSTEM, org=org, kind=KeyKind.AGENT, agent=qa)
    ok = fetch(f"{api}/approvals/{approval_id}/resolve", key=qa_key, method="POST", data={"decision": "approved"})
    assert ok.status == 200, ok.body
    assert Approval.objects.get(pk=approval_id).status == ApprovalStatus.APPROVED
