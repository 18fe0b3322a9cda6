"""The pull-request story: hydrated review run, then write-back through the output policy to fake GitHub."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from agents.keys import key_create
from agents.models import Agent, KeyKind
from hooks.models import LogEntry
from hooks.secrets import unseal
from hooks.services import hook_create, rule_create
from hooks.writeback import policy_set
from issues.models import Issue
from orgs.actors import Actor
from runners.models import Run
from runners.prompt import prompt_build
from runners.run_env import build_env
from tests.factories import make_agent
from tests.fakes.github_api import FakeGitHub
from tests.hooks.conftest import BOARD, github_headers, post
from tests.hooks.payloads import BASE_SHA, HEAD_SHA, github_pull_request_opened

TEMPLATE = "Review this change at {{ head_sha }}.\nFiles:\n{{ files }}\n\n{{ diff }}"
PATCH = "@@ -1 +1 @@\n-Hello World\n+Hello World, with new information"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    fake.compares[f"{BASE_SHA}...{HEAD_SHA}"] = [{"filename": "README.md", "status": "modified", "patch": PATCH}]
    yield fake
    fake.stop()


def _key(agent: Agent) -> str:
    _, raw = key_create(actor=Actor.system("tests"), org=agent.org, kind=KeyKind.AGENT, agent=agent, name="t")
    return raw


def _writeback(client: Client, key: str, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/writeback", data=json.dumps(body), content_type="application/json",
                       headers={"authorization": f"Bearer {key}"})  # fmt: skip


@pytest.fixture
def story(client: Client, org: Any, gh: FakeGitHub) -> Callable[[], tuple[Agent, Any]]:
    def run() -> tuple[Agent, Any]:
        reviewer = make_agent(org, slug="reviewer")
        hook, secret = hook_create(actor=BOARD, org=org, source="github", name="gh", api_url=gh.base_url,
                                   token="ghp_fake_token")  # fmt: skip
        rule_create(actor=BOARD, org=org, name="review", source="github",
                    events=["pull_request.opened", "pull_request.synchronize"], action="start_run",
                    assignee=reviewer, hydrate=True,
                    title_template="Review PR #{{ number }}: {{ pull_request.title }}",
                    body_template=TEMPLATE)  # fmt: skip
        payload = github_pull_request_opened()
        resp = post(client, hook, payload, **github_headers(json.dumps(payload).encode(), secret, event="pull_request"))
        return reviewer, resp

    return run


def test_it_starts_a_review_run_whose_prompt_holds_the_pinned_diff(story: Callable[[], Any], gh: FakeGitHub) -> None:
    reviewer, resp = story()

    assert resp.json()["status"] == "matched"
    run = Run.objects.get(agent=reviewer)
    assert run.status == "queued" and run.issue is not None
    prompt = prompt_build(agent=reviewer, issue=run.issue, mode=run.mode).recorded()
    assert "+Hello World, with new information" in prompt and "README.md" in prompt and HEAD_SHA in prompt
    assert any(f"/compare/{BASE_SHA}...{HEAD_SHA}" in c.path for c in gh.calls)
    assert all(c.authorization == "Bearer ghp_fake_token" for c in gh.calls)


def test_it_comments_on_a_new_push_instead_of_a_second_issue(
    client: Client, story: Callable[[], Any], org: Any, gh: FakeGitHub
) -> None:
    story()
    hook = org.hooks.get()
    push = github_pull_request_opened(action="synchronize")
    post(client, hook, push, **github_headers(json.dumps(push).encode(), unseal(hook.secret_sealed),
                                              event="pull_request"))  # fmt: skip
    assert Issue.objects.filter(org=org).count() == 1
    assert "+Hello World" in Issue.objects.get(org=org).comments.last().body  # type: ignore[union-attr]


def test_it_writes_back_through_the_policy_gate_and_logs_every_decision(
    client: Client, story: Callable[[], Any], gh: FakeGitHub
) -> None:
    reviewer, _ = story()
    key = _key(reviewer)
    assert _writeback(client, key, {"kind": "comment", "source": "github", "repo": "Codertocat/Hello-World",
                                     "number": 2, "body": "LGTM"}).status_code == 403  # no policy yet  # fmt: skip
    policy_set(actor=BOARD, agent=reviewer, max_comment_length=20, labels_denied=["approved"])

    ok = _writeback(client, key, {"kind": "comment", "source": "github", "repo": "Codertocat/Hello-World",
                                  "number": 2, "body": "Looks good to me."})  # fmt: skip
    long = _writeback(client, key, {"kind": "comment", "source": "github", "repo": "Codertocat/Hello-World",
                                    "number": 2, "body": "x" * 21})  # fmt: skip
    label = _writeback(client, key, {"kind": "labels", "source": "github", "repo": "Codertocat/Hello-World",
                                     "number": 2, "add_labels": ["approved"]})  # fmt: skip

    assert ok.status_code == 200
    assert [c["body"] for c in gh.comments] == ["Looks good to me."]
    assert (long.status_code, long.json()["rule"]) == (403, "max_comment_length")
    assert (label.status_code, label.json()["rule"]) == (403, "labels_denied")
    assert gh.labels == {}
    kinds = list(LogEntry.objects.filter(agent=reviewer).order_by("id").values_list("kind", flat=True))
    assert kinds[-5:] == ["policy_denied", "policy_allowed", "written_back", "policy_denied", "policy_denied"]
    story_log = " ".join(LogEntry.objects.values_list("message", flat=True))
    assert "ghp_fake_token" not in story_log and "ghp_fake_token" not in ok.content.decode()


def test_it_never_puts_mesas_forge_token_in_a_runs_environment(
    story: Callable[[], Any], monkeypatch: Any, tmp_path: Any
) -> None:
    monkeypatch.setenv("MESA_FORGE_TOKEN", "ghp_server_token")
    reviewer, _ = story()
    run = Run.objects.get(agent=reviewer)

    env = build_env(agent=reviewer, run=run, issue=run.issue, api_key="mesa_k", workdir=tmp_path)

    values = " ".join(env.values())
    assert "ghp_fake_token" not in values and "ghp_server_token" not in values


def test_it_sets_a_commit_status_and_suggests_a_change_when_the_policy_allows(
    client: Client, story: Callable[[], Any], gh: FakeGitHub
) -> None:
    reviewer, _ = story()
    key = _key(reviewer)
    policy_set(actor=BOARD, agent=reviewer, status_allowed=True, suggestions_allowed=True, labels_allowed=["reviewed"])
    repo = {"source": "github", "repo": "Codertocat/Hello-World"}

    status = _writeback(client, key, {"kind": "status", **repo, "sha": HEAD_SHA, "state": "success",
                                      "context": "mesa/review", "body": "Reviewed"})  # fmt: skip
    suggestion = _writeback(client, key, {"kind": "suggestion", **repo, "number": 2, "sha": HEAD_SHA,
                                          "path": "README.md", "line": 1, "body": "Tighter:",
                                          "suggestion": "Hello World, updated"})  # fmt: skip
    labels = _writeback(client, key, {"kind": "labels", **repo, "number": 2, "add_labels": ["reviewed"]})
    other = _writeback(client, key, {"kind": "labels", **repo, "number": 2, "add_labels": ["ship-it"]})

    assert (status.status_code, suggestion.status_code, labels.status_code) == (200, 200, 200)
    assert gh.statuses == [{"sha": HEAD_SHA, "state": "success", "context": "mesa/review", "description": "Reviewed"}]
    review = [c for c in gh.comments if c["kind"] == "review"]
    assert review[0]["path"] == "README.md" and "```suggestion\nHello World, updated\n```" in review[0]["body"]
    assert gh.labels == {2: ["reviewed"]}
    assert (other.status_code, other.json()["rule"]) == (403, "labels_allowed")


def test_it_refuses_to_write_to_a_repository_no_work_came_from(
    client: Client, story: Callable[[], Any], gh: FakeGitHub
) -> None:
    reviewer, _ = story()
    policy_set(actor=BOARD, agent=reviewer)
    resp = _writeback(client, _key(reviewer), {"kind": "comment", "source": "github", "repo": "someone/else",
                                               "number": 1, "body": "hi"})  # fmt: skip

    assert (resp.status_code, resp.json()["rule"]) == (403, "repository")
    assert gh.comments == []
    assert LogEntry.objects.filter(kind="policy_denied", agent=reviewer).exists()
