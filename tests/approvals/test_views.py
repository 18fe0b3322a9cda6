from __future__ import annotations

from typing import Any

from approvals.models import Approval
from approvals.services import approval_create
from orgs.actors import Actor
from tests.factories import make_agent, make_issue, make_org


def _approval(org: Any, **kw: Any) -> Approval:
    agent = make_agent(org)
    kw.setdefault("title", "May I deploy?")
    return approval_create(actor=Actor.for_agent(agent), org=org, reason="Because **tests** pass.", **kw)


def test_it_lists_pending_approvals_first(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    issue = make_issue(org, title="Deploy")
    approval = _approval(org, issue=issue)
    with django_assert_max_num_queries(10):
        response = client.get("/approvals/")
    body = response.content.decode()
    assert "May I deploy?" in body and "<strong>tests</strong>" in body and issue.key in body
    assert f'id="approval-{approval.pk}"' in body and "Approve" in body
    assert "mesa:approval_created from:body" in body
    assert '<span class="badge">1</span>' in body  # the nav badge


def test_it_approves_with_a_comment(client: Any, org: Any) -> None:
    approval = _approval(org)
    response = client.post(
        f"/approvals/{approval.pk}/resolve", {"decision": "approved", "comment": "go"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "approved by local" in response.content.decode()
    approval.refresh_from_db()
    assert (approval.status, approval.decision_comment, approval.decided_by_label) == ("approved", "go", "local")


def test_it_refuses_a_second_decision(client: Any, org: Any) -> None:
    approval = _approval(org)
    client.post(f"/approvals/{approval.pk}/resolve", {"decision": "rejected"})
    response = client.post(f"/approvals/{approval.pk}/resolve", {"decision": "approved"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and "already rejected" in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == "rejected"


def test_it_hides_approvals_of_another_org(client: Any, org: Any) -> None:
    foreign = _approval(make_org())
    assert client.post(f"/approvals/{foreign.pk}/resolve", {"decision": "approved"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "pending"


def test_it_shows_the_diff_of_an_archetype_patch_to_the_approver(client: Any, org: Any) -> None:
    from archetypes.services import archetype_patch_create

    text = "---\ntitle: QA\n---\nYou are a tester who also fuzzes every input.\n"
    archetype_patch_create(actor=Actor.for_agent(make_agent(org)), org=org, archetype="qa", proposed_text=text)
    body = client.get("/approvals/").content.decode()
    assert 'data-testid="patch-diff"' in body
    assert "+You are a tester who also fuzzes every input." in body
    assert "--- qa.md (current)" in body and "+++ qa.md (proposed)" in body


def test_it_rolls_back_an_approved_archetype_patch_with_a_button(client: Any, org: Any) -> None:
    from archetypes.loader import archetype_get
    from archetypes.services import archetype_patch_approve, archetype_patch_create

    board = Actor.human(label="alice")
    patch = archetype_patch_create(actor=board, org=org, archetype="qa", proposed_text="---\ntitle: QA2\n---\nNew.\n")
    archetype_patch_approve(actor=board, patch=patch)
    body = client.get("/approvals/").content.decode()
    assert 'data-testid="patch-rollback"' in body
    foreign = make_org(slug="foreign")
    assert client.post(f"/archetype-patches/{patch.pk}/rollback").status_code == 302
    assert archetype_get("qa", org).source == "builtin"  # type: ignore[union-attr]
    assert 'data-testid="patch-rollback"' not in client.get("/approvals/").content.decode()
    other = archetype_patch_create(actor=board, org=foreign, archetype="qa", proposed_text="x")
    assert client.post(f"/archetype-patches/{other.pk}/rollback").status_code == 404
