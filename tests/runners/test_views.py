from __future__ import annotations

from decimal import Decimal
from typing import Any

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
    run.events.create(seq=3, type="tool_result", data={"output": "2 failed", "is_error": True})
    response = client.get(f"/runs/{run.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Reading <strong>files</strong>" in body and "Bash" in body and "2 failed" in body
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
