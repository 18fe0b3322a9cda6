from __future__ import annotations

from typing import Any

from tests.factories import make_agent, make_issue


def test_it_renders_the_home_page_with_agents_and_issues(client: Any, org: Any) -> None:
    make_agent(org, slug="builder", name="Builder")
    make_issue(org, title="Ship the thing")
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Builder" in body
    assert "ACME-1" in body and "Ship the thing" in body
