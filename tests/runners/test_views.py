from __future__ import annotations

from decimal import Decimal
from typing import Any

from runners.base import tool_result
from tests.factories import make_agent, make_issue, make_org, make_run


def test_it_renders_a_run_with_transcript_diff_and_failure(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="worker", name="Worker")
    issue = make_issue(org, title="Fix it", assignee=agent)
    run = make_run(
        agent,
        issue=issue,
        status="failed",
        failure_reason="exit code 2: tests failed",
        prompt="You are Worker. Fix it.",
        diff="diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n",
        tokens_in=1500,
        tokens_out=500,
        cost_usd=Decimal("0.0123"),
    )
    run.events.create(seq=1, type="text", data={"text": "Reading **files**"})
    run.events.create(seq=2, type="tool_use", data={"name": "Bash", "input": {"command": "pytest"}})
    # The shape every runner stores (runners.base.tool_result): the output is ``content``.
    result = tool_result(call_id="toolu_01", content="2 failed\nE  assert 1 < 0", is_error=True)
    run.events.create(seq=3, type=result.type, data=result.data)
    response = client.get(f"/runs/{run.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Reading <strong>files</strong>" in body and "Bash" in body
    # The tool's output renders as its text, not as the event's JSON.
    assert "<pre>2 failed\nE  assert 1 &lt; 0</pre>" in body and "toolu_01" not in body
    assert "exit code 2: tests failed" in body and "You are Worker. Fix it." in body
    assert 'class="add">+x = 2' in body and "$0.01" in body and "2.0k" in body
    assert f"detail.run_id=={run.pk}" in body and 'data-page="run"' in body


def test_it_shows_the_runs_own_commit_range_on_the_issue_branch(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="worker")
    issue = make_issue(org, title="Fix it", assignee=agent)
    run = make_run(agent, issue=issue, status="completed", branch="mesa/ACME-1", start_sha="a" * 40, end_sha="b" * 40)
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert "mesa/ACME-1" in body and "aaaaaaaaaa..bbbbbbbbbb" in body


def test_it_renders_the_live_part_alone_for_htmx(client: Any, org: Any) -> None:
    run = make_run(make_agent(org), status="running")
    run.events.create(seq=1, type="text", data={"text": "streaming"})
    body = client.get(f"/runs/{run.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-live").content.decode()
    assert body.startswith('<div id="run-live"') and "streaming" in body and "<html" not in body


def test_it_hides_runs_of_another_org(client: Any, org: Any) -> None:
    run = make_run(make_agent(make_org()))
    assert client.get(f"/runs/{run.pk}/").status_code == 404


def test_it_shows_a_cancel_button_while_the_run_is_active_and_cancels_with_htmx(client: Any, org: Any) -> None:
    from issues.models import Comment, CommentKind

    agent = make_agent(org, slug="worker")
    issue = make_issue(org, title="Stop it", assignee=agent)
    run = make_run(agent, issue=issue, status="queued")
    for page in (f"/runs/{run.pk}/", f"/issues/{issue.key}/"):
        assert f'hx-post="/runs/{run.pk}/cancel"' in client.get(page).content.decode(), page

    response = client.post(f"/runs/{run.pk}/cancel", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith(f'<span class="run-cancel" id="run-cancel-{run.pk}">') and "Cancelled" in body
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert "cancelled by local" in Comment.objects.get(issue=issue, kind=CommentKind.SYSTEM).body
    assert 'hx-post="/runs/' not in client.get(f"/runs/{run.pk}/").content.decode()
    again = client.post(f"/runs/{run.pk}/cancel", HTTP_HX_REQUEST="true")
    assert again.status_code == 409 and "already ended" in again.content.decode()


def test_it_marks_a_running_run_as_stopping(client: Any, org: Any) -> None:
    run = make_run(make_agent(org), status="running")
    response = client.post(f"/runs/{run.pk}/cancel", HTTP_HX_REQUEST="true")
    assert "Stopping…" in response.content.decode()
    run.refresh_from_db()
    assert run.status == "running" and run.cancel_requested
    plain = make_run(make_agent(org), status="queued")
    redirect = client.post(f"/runs/{plain.pk}/cancel")
    assert redirect.status_code == 302 and redirect["Location"] == f"/runs/{plain.pk}/"


def test_it_refuses_to_cancel_another_orgs_run_or_for_an_anonymous_visitor(
    client: Any, org: Any, settings: Any
) -> None:
    theirs = make_run(make_agent(make_org()), status="queued")
    assert client.post(f"/runs/{theirs.pk}/cancel").status_code == 404
    mine = make_run(make_agent(org), status="queued")
    settings.MESA_TRUSTED_LOCAL = False
    assert client.post(f"/runs/{mine.pk}/cancel").status_code == 302  # to the login page
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.status == "queued" and mine.status == "queued"


def test_it_shows_a_pty_runs_terminal_and_attaches_and_detaches_an_agent(client: Any, org: Any) -> None:
    lead = make_agent(org, slug="lead")
    agent = make_agent(org, slug="worker", terminal="pty")
    run = make_run(agent, status="running")
    run.events.create(seq=1, type="terminal_input", data={"by": "alice", "text": "ls\r"})
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert "<strong>alice</strong> typed <code>ls" in body
    assert f'data-ws="/ws/runs/{run.pk}/terminal/"' in body and "vendor/xterm/xterm.js" in body
    assert "Nobody is attached." in body
    response = client.post(f"/runs/{run.pk}/bindings", {"agent": "lead", "mode": "drive"})
    assert response.status_code == 302
    binding = run.bindings.get()
    assert binding.agent == lead and binding.mode == "drive" and binding.granted_by_label == "local"
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert 'data-testid="binding"' in body and ">lead<" in body
    client.post(f"/runs/{run.pk}/bindings/{binding.pk}/end")
    binding.refresh_from_db()
    assert binding.ended_at is not None


def test_it_shows_no_terminal_for_a_run_without_one(client: Any, org: Any) -> None:
    run = make_run(make_agent(org, slug="worker"), status="running")
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert "/terminal/" not in body and "xterm.js" not in body
