"""The original Mesa's field names keep working as documented aliases of ours (api.fields.ORIGINAL_MESA_ALIASES)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from agents.models import Agent
from api.fields import ORIGINAL_MESA_ALIASES, StrictInput
from approvals.models import Approval
from blocks.services import work_block_transition
from issues.models import Comment, Issue, Status
from orgs.actors import Actor
from orgs.models import Org
from tests.factories import make_issue, make_work_block


def _subclasses(cls: type) -> list[type]:
    out: list[type] = []
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        out += [sub, *_subclasses(sub)]
    return out


def test_it_names_only_real_serializers_and_fields_in_the_alias_table() -> None:
    import api.urls  # noqa: F401 - loads every view, hence every input serializer

    serializers = {cls.__name__: cls for cls in _subclasses(StrictInput)}
    for name, aliases in ORIGINAL_MESA_ALIASES.items():
        fields = serializers[name]().fields
        for alias, field in aliases.items():
            assert field in fields and alias not in fields, (name, alias)


def test_it_accepts_assignee_slug_and_parent_issue_key_on_create(
    call: Any, api_org: Org, ceo: Agent, engineer: Agent, agent_key: Any
) -> None:
    parent = make_issue(api_org, title="Epic")
    r = call(
        "POST",
        "issues",
        agent_key(ceo),
        {"title": "Child", "assignee_slug": "engineer", "parent_issue_key": parent.key},
    )
    assert r.status_code == 201, r.content
    assert r.json()["assignee"] == "engineer" and r.json()["parent"] == parent.key


def test_it_accepts_assignee_slug_on_update_and_refuses_both_names(
    call: Any, api_org: Org, ceo: Agent, engineer: Agent, designer: Agent, agent_key: Any
) -> None:
    issue = make_issue(api_org, title="Move me", assignee=engineer)
    key = agent_key(ceo)
    r = call("PATCH", f"issues/{issue.key}", key, {"assignee_slug": "designer"})
    assert r.status_code == 200, r.content
    assert r.json()["assignee"] == "designer"
    r = call("PATCH", f"issues/{issue.key}", key, {"assignee_slug": ""})  # "" unassigns, as in the original
    assert r.json()["assignee"] is None
    both = call("PATCH", f"issues/{issue.key}", key, {"assignee_slug": "designer", "assignee": "engineer"})
    assert both.status_code == 400 and both.json()["field"] == "assignee_slug"
    typo = call("PATCH", f"issues/{issue.key}", key, {"asignee_slug": "designer"})
    assert typo.status_code == 400 and "Did you mean 'assignee'?" in typo.json()["error"]
    bad = call("PATCH", f"issues/{issue.key}", key, {"parent_issue_key": "API-404"})
    assert bad.status_code == 400 and bad.json()["field"] == "parent"  # errors name our field


def test_it_accepts_agent_id_and_expected_statuses_on_checkout(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any
) -> None:
    issue = make_issue(api_org, title="Claim me", assignee=engineer)
    key = agent_key(engineer)
    body = {"agentId": "engineer", "expectedStatuses": ["todo", "backlog"]}
    r = call("POST", f"issues/{issue.key}/checkout", key, body)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "in_progress"
    other = make_issue(api_org, title="In review", assignee=engineer)
    Issue.objects.filter(pk=other.pk).update(status=Status.IN_REVIEW)
    refused = call("POST", f"issues/{other.key}/checkout", key, {"expectedStatuses": ["todo"]})
    assert refused.status_code == 409 and refused.json()["code"] == "unexpected_status"
    assert refused.json()["current"] == "in_review"
    assert call("POST", f"issues/{issue.key}/checkout", key).status_code == 200  # still no body needed


def test_it_accepts_kind_on_comments(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    issue = make_issue(api_org, title="Say it", assignee=engineer)
    for kind in ("comment", "evidence"):
        r = call("POST", f"issues/{issue.key}/comments", agent_key(engineer), {"body": "done", "kind": kind})
        assert r.status_code == 201 and r.json()["kind"] == kind
    assert Comment.objects.filter(issue=issue, kind="evidence").count() == 1


def test_it_accepts_issue_key_on_approvals_and_work_blocks(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any, board_key: str
) -> None:
    issue = make_issue(api_org, title="Risky", assignee=engineer)
    r = call("POST", "approvals", agent_key(engineer), {"title": "Drop it?", "issue_key": issue.key})
    assert r.status_code == 201, r.content
    assert Approval.objects.get(pk=r.json()["id"]).issue == issue
    block = make_work_block(api_org)
    work_block_transition(actor=Actor.system(), block=block, to="active")
    r = call("POST", f"work-blocks/{block.pk}/issues", board_key, {"issue_key": issue.key})
    assert r.status_code == 200, r.content
    issue.refresh_from_db()
    assert issue.work_block_id == block.pk


def test_it_documents_the_aliases_in_the_schema(client: Client) -> None:
    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    prop = schema["IssueCreateInputRequest"]["properties"]["assignee_slug"]
    assert prop["deprecated"] is True and "Alias of `assignee`" in prop["description"]
    assert "expectedStatuses" in schema["CheckoutInputRequest"]["properties"]
