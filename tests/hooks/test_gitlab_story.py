"""The merge-request story on GitLab: token-verified hook, hydrated run, a note written back, a status denied."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from agents.keys import key_create
from agents.models import KeyKind
from hooks.models import LogEntry
from hooks.services import hook_create, rule_create
from hooks.writeback import policy_set
from orgs.actors import Actor
from runners.models import Run
from tests.factories import make_agent
from tests.fakes.gitlab_api import FakeGitLab
from tests.hooks.conftest import BOARD, post
from tests.hooks.payloads import GL_BASE, GL_HEAD, gitlab_merge_request_open


@pytest.fixture
def gl() -> Iterator[FakeGitLab]:
    fake = FakeGitLab().start()
    fake.compares[f"{GL_BASE}...{GL_HEAD}"] = [
        {"old_path": "README", "new_path": "README", "diff": "@@ -1 +1 @@\n-Old\n+New viewport"}
    ]
    yield fake
    fake.stop()


def test_it_reviews_a_merge_request_and_writes_a_note_back_through_the_policy(
    client: Client, org: Any, gl: FakeGitLab
) -> None:
    reviewer = make_agent(org, slug="gl-reviewer")
    hook, secret = hook_create(actor=BOARD, org=org, source="gitlab", name="gl", api_url=gl.base_url,
                               token="glpat-fake")  # fmt: skip
    rule_create(actor=BOARD, org=org, name="mr review", source="gitlab", events=["merge_request.open"],
                filters={"branch_glob": "ms-*"}, action="start_run", assignee=reviewer, hydrate=True,
                title_template="Review !{{ object_attributes.iid }}", body_template="{{ diff }}")  # fmt: skip
    resp = post(client, hook, gitlab_merge_request_open(), HTTP_X_GITLAB_TOKEN=secret,
                HTTP_X_GITLAB_EVENT="Merge Request Hook", HTTP_X_GITLAB_EVENT_UUID="a-1")  # fmt: skip

    assert resp.json()["status"] == "matched"
    run = Run.objects.get(agent=reviewer)
    assert run.issue is not None and "+New viewport" in run.issue.description

    policy_set(actor=BOARD, agent=reviewer, max_comment_length=100)
    _, key = key_create(actor=Actor.system("t"), org=org, kind=KeyKind.AGENT, agent=reviewer, name="t")
    auth = {"authorization": f"Bearer {key}"}
    note = {"kind": "comment", "source": "gitlab", "repo": "gitlabhq/gitlab-test", "number": 1, "body": "Looks fine."}
    status = {"kind": "status", "source": "gitlab", "repo": "gitlabhq/gitlab-test", "sha": GL_HEAD, "state": "success"}
    ok = client.post("/api/v1/writeback", data=json.dumps(note), content_type="application/json", headers=auth)
    denied = client.post("/api/v1/writeback", data=json.dumps(status), content_type="application/json", headers=auth)

    assert ok.status_code == 200
    assert [(n["noteable_type"], n["noteable_iid"], n["body"]) for n in gl.notes] == [
        ("merge_requests", 1, "Looks fine.")
    ]
    assert (denied.status_code, denied.json()["rule"]) == (403, "status_allowed") and gl.statuses == []
    kinds = list(LogEntry.objects.filter(org=org).order_by("id").values_list("kind", flat=True))
    assert kinds == ["received", "rule_matched", "hydrated", "issue_created", "run_queued",
                     "policy_allowed", "written_back", "policy_denied"]  # fmt: skip
