"""Webhooks in: signatures, dedupe, size cap, rate limit, stored deliveries, redeliver."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.test import Client

from hooks.models import Delivery, Hook, LogEntry, LogKind
from hooks.secrets import unseal
from hooks.services import hook_create, hook_rotate_secret, redeliver, rule_create
from issues.models import Issue
from tests.factories import make_agent, make_label, make_org
from tests.hooks.conftest import BOARD, github_headers, post
from tests.hooks.payloads import (
    github_issue_comment,
    github_issue_opened,
    github_pull_request_opened,
    gitlab_issue_open,
)


def _rule(org: Any, **kw: Any) -> Any:
    make_label(org, name="agent")
    agent = make_agent(org, slug="triager")
    defaults: dict[str, Any] = {
        "actor": BOARD, "org": org, "name": "triage", "source": "github", "events": ["issues.opened"],
        "filters": {"labels_contain": ["agent"], "author_not_bot": True}, "assignee": agent,
        "labels": ["agent"], "title_template": "GH: {{ issue.title }}", "body_template": "{{ issue.body }}",
    }  # fmt: skip
    defaults.update(kw)
    return rule_create(**defaults)


def test_it_turns_a_signed_issues_opened_into_one_assigned_issue_and_ignores_the_same_delivery(
    client: Client, org: Any, github_hook: tuple[Hook, str]
) -> None:
    hook, secret = github_hook
    rule = _rule(org)
    payload = github_issue_opened()
    body = json.dumps(payload).encode()
    headers = github_headers(body, secret, event="issues", delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")

    first = post(client, hook, payload, **headers)
    again = post(client, hook, payload, **headers)

    assert first.status_code == 202 and first.json()["status"] == "matched"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    issue = Issue.objects.get(org=org)
    assert issue.title == "GH: Found a bug"
    assert issue.assignee == rule.assignee
    assert "https://github.com/octocat/Hello-World/issues/1347" in issue.description
    assert [lab.name for lab in issue.labels.all()] == ["agent"]
    delivery = Delivery.objects.get(hook=hook)
    assert delivery.status == "matched" and delivery.event == "issues.opened"
    assert delivery.headers["X-Hub-Signature-256"] == "[scrubbed]"
    kinds = list(LogEntry.objects.filter(org=org).order_by("id").values_list("kind", flat=True))
    assert kinds == ["received", "rule_matched", "issue_created", "duplicate"]


def test_it_refuses_a_bad_or_missing_signature_and_stores_only_the_refusal(
    client: Client, org: Any, github_hook: tuple[Hook, str]
) -> None:
    hook, _secret = github_hook
    _rule(org)
    payload = github_issue_opened()
    body = json.dumps(payload).encode()
    bad = post(client, hook, payload, **github_headers(body, "not-the-secret", event="issues"))
    missing = post(client, hook, payload, HTTP_X_GITHUB_EVENT="issues", HTTP_X_GITHUB_DELIVERY="x")

    assert bad.status_code == 401 and missing.status_code == 401
    assert not Delivery.objects.exists() and not Issue.objects.exists()
    assert list(LogEntry.objects.values_list("kind", flat=True)) == [LogKind.REFUSED, LogKind.REFUSED]


def test_it_comments_on_the_issue_the_same_external_thing_created(
    client: Client, org: Any, github_hook: tuple[Hook, str]
) -> None:
    hook, secret = github_hook
    _rule(org, events=["issues.opened", "issue_comment.created"], filters={},
          body_template="{{ comment.body }}")  # fmt: skip
    opened = github_issue_opened()
    post(client, hook, opened, **github_headers(json.dumps(opened).encode(), secret, event="issues"))
    comment = github_issue_comment(body="Still broken on main")
    post(client, hook, comment, **github_headers(json.dumps(comment).encode(), secret, event="issue_comment"))

    issue = Issue.objects.get(org=org)
    assert Issue.objects.count() == 1
    assert "Still broken on main" in issue.comments.last().body  # type: ignore[union-attr]


def test_it_ignores_what_no_rule_matches_and_logs_why(client: Client, org: Any, github_hook: tuple[Hook, str]) -> None:
    hook, secret = github_hook
    _rule(org)
    payload = github_issue_opened(labels=("question",))
    resp = post(client, hook, payload, **github_headers(json.dumps(payload).encode(), secret, event="issues"))

    assert resp.json()["status"] == "ignored"
    assert not Issue.objects.exists()
    skipped = LogEntry.objects.get(kind=LogKind.RULE_SKIPPED)
    assert "label 'agent' missing" in skipped.message


def test_it_verifies_gitlab_tokens_and_generic_hmac_with_a_configured_header(client: Client, org: Any) -> None:
    gl, gl_secret = hook_create(actor=BOARD, org=org, source="gitlab", name="gl")
    gen, gen_secret = hook_create(
        actor=BOARD, org=org, source="generic", name="ci", signature_header="X-Ci-Sig", delivery_header="X-Ci-Id"
    )
    payload = gitlab_issue_open()
    ok = post(client, gl, payload, HTTP_X_GITLAB_TOKEN=gl_secret, HTTP_X_GITLAB_EVENT="Issue Hook",
              HTTP_X_GITLAB_EVENT_UUID="13792a34-cac6-4fda-95a8-c58e00a3954e")  # fmt: skip
    wrong = post(client, gl, payload, HTTP_X_GITLAB_TOKEN="nope")
    body = json.dumps({"event": "build", "action": "failed"}).encode()
    sig = hmac.new(gen_secret.encode(), body, hashlib.sha256).hexdigest()
    gen_ok = client.post(f"/hooks/{org.slug}/generic/{gen.public_id}", data=body, content_type="application/json",
                         HTTP_X_CI_SIG=sig, HTTP_X_CI_ID="b-1")  # fmt: skip
    gen_bad = client.post(f"/hooks/{org.slug}/generic/{gen.public_id}", data=body, content_type="application/json",
                          HTTP_X_SIGNATURE_256=sig)  # fmt: skip

    assert (ok.status_code, wrong.status_code, gen_ok.status_code, gen_bad.status_code) == (202, 401, 202, 401)
    stored = Delivery.objects.get(hook=gl)
    assert stored.delivery_id == "13792a34-cac6-4fda-95a8-c58e00a3954e" and stored.event == "issue.open"
    assert stored.headers["X-Gitlab-Token"] == "[scrubbed]"
    assert Delivery.objects.get(hook=gen).headers["X-Ci-Sig"] == "[scrubbed]"


def test_it_stores_the_secret_encrypted_and_rotation_retires_the_old_one(
    client: Client, org: Any, github_hook: tuple[Hook, str]
) -> None:
    hook, old = github_hook
    assert old not in hook.secret_sealed and unseal(hook.secret_sealed) == old
    new = hook_rotate_secret(actor=BOARD, hook=hook)
    payload = github_issue_opened()
    body = json.dumps(payload).encode()

    assert post(client, hook, payload, **github_headers(body, old, event="issues")).status_code == 401
    assert post(client, hook, payload, **github_headers(body, new, event="issues")).status_code == 202


def test_it_caps_the_body_and_rate_limits_per_hook(
    client: Client, org: Any, settings: Any, github_hook: tuple[Hook, str]
) -> None:
    hook, secret = github_hook
    settings.MESA_HOOK_MAX_BODY = 2000
    big = github_issue_opened()
    big["issue"]["body"] = "x" * 5000
    too_big = post(client, hook, big, **github_headers(json.dumps(big).encode(), secret, event="issues"))
    Hook.objects.filter(pk=hook.pk).update(rate_limit_per_minute=2)
    hook.refresh_from_db()
    codes = []
    for n in range(3):
        p = github_issue_opened(number=n + 1)
        codes.append(
            post(client, hook, p, **github_headers(json.dumps(p).encode(), secret, event="issues")).status_code
        )

    assert too_big.status_code == 413
    assert codes == [202, 202, 429]
    assert Delivery.objects.filter(hook=hook).count() == 2


def test_it_redelivers_a_stored_delivery_after_a_rule_is_added(
    client: Client, org: Any, github_hook: tuple[Hook, str]
) -> None:
    hook, secret = github_hook
    payload = github_issue_opened()
    post(client, hook, payload, **github_headers(json.dumps(payload).encode(), secret, event="issues"))
    delivery = Delivery.objects.get(hook=hook)
    assert delivery.status == "ignored"
    _rule(org)

    again = redeliver(actor=BOARD, delivery=delivery)

    assert again.status == "matched" and again.attempts == 2
    assert Issue.objects.filter(org=org).count() == 1


def test_it_answers_404_for_another_orgs_hook_path(client: Client, org: Any, github_hook: tuple[Hook, str]) -> None:
    hook, secret = github_hook
    other = make_org(name="Other", slug="other", issue_prefix="OTH")
    payload = github_issue_opened()
    body = json.dumps(payload).encode()
    resp = client.post(f"/hooks/{other.slug}/github/{hook.public_id}", data=body, content_type="application/json",
                       **github_headers(body, secret, event="issues"))  # fmt: skip
    assert resp.status_code == 404
    assert not Delivery.objects.exists()


def test_it_matches_only_failed_workflow_runs_with_a_conclusion_filter(
    client: Client, org: Any, github_hook: tuple[Hook, str]
) -> None:
    hook, secret = github_hook
    title = "CI failed: {{ workflow_run.name }} #{{ workflow_run.id }}"
    rule_create(actor=BOARD, org=org, name="ci", source="github", events=["workflow_run.completed"],
                filters={"conclusion": "failure"}, title_template=title)  # fmt: skip

    def run(conclusion: str, run_id: int) -> Any:
        url = f"https://github.com/octo-org/example-workflow/actions/runs/{run_id}"
        payload = {"action": "completed", "repository": {"full_name": "octo-org/example-workflow"},
                   "sender": {"login": "octocat", "type": "User"},
                   "workflow_run": {"id": run_id, "name": "Build", "head_branch": "main", "conclusion": conclusion,
                                    "html_url": url}}  # fmt: skip
        return post(client, hook, payload, **github_headers(json.dumps(payload).encode(), secret, event="workflow_run"))

    assert run("success", 30433642).json()["status"] == "ignored"
    assert run("failure", 30433643).json()["status"] == "matched"
    assert list(Issue.objects.values_list("title", flat=True)) == ["CI failed: Build #30433643"]


def test_it_marks_a_delivery_failed_when_hydration_cannot_reach_the_forge(
    client: Client, org: Any, settings: Any
) -> None:
    hook, secret = hook_create(actor=BOARD, org=org, source="github", name="gh", api_url="http://127.0.0.1:9",
                               token="t")  # fmt: skip
    rule_create(actor=BOARD, org=org, name="review", source="github", events=["pull_request.opened"],
                hydrate=True, body_template="{{ diff }}")  # fmt: skip
    payload = github_pull_request_opened()
    resp = post(client, hook, payload, **github_headers(json.dumps(payload).encode(), secret, event="pull_request"))

    delivery = Delivery.objects.get(hook=hook)
    assert resp.json()["status"] == "failed" and "Hydration failed" in delivery.error
    assert not Issue.objects.exists()
    assert LogEntry.objects.filter(kind=LogKind.FAILED, delivery=delivery).exists()


def test_it_stops_logging_refusals_past_the_hooks_rate(client: Client, org: Any, github_hook: tuple[Hook, str]) -> None:
    hook, _ = github_hook
    Hook.objects.filter(pk=hook.pk).update(rate_limit_per_minute=3)
    hook.refresh_from_db()
    payload = github_issue_opened()
    codes = [post(client, hook, payload, HTTP_X_HUB_SIGNATURE_256="sha256=00").status_code for _ in range(5)]

    assert codes == [401] * 5
    assert LogEntry.objects.filter(kind=LogKind.REFUSED).count() == 3
