from __future__ import annotations

from typing import Any

import pytest

from issues.bulk import issues_bulk_set_priority
from issues.ordering import issues_reorder
from orgs.errors import InvalidInput
from tests.factories import SYSTEM, make_issue, make_org, make_user

HTMX = {"HTTP_HX_REQUEST": "true"}


def column(client: Any, status: str = "todo") -> list[str]:
    body = client.get("/issues/?status=" + status).content.decode()
    return [part.split('"', 1)[0] for part in body.split('data-key="')[1:]]


def test_it_keeps_a_manual_order_within_a_column(client: Any, org: Any) -> None:
    low = make_issue(org, title="Low", priority=1)
    high = make_issue(org, title="High", priority=4)
    mid = make_issue(org, title="Mid", priority=2)
    client.force_login(make_user())
    assert column(client) == [high.key, mid.key, low.key]
    response = client.post(
        "/issues/reorder", {"status": "todo", "keys": f"{low.key},{high.key}", "moved": low.key}, **HTMX
    )
    assert response.status_code == 200
    assert column(client) == [low.key, high.key, mid.key]


def test_it_refuses_keys_of_another_column_or_org(org: Any) -> None:
    other = make_org(name="Other", slug="other", issue_prefix="OTH")
    theirs = make_issue(other, title="Theirs")
    mine = make_issue(org, title="Mine")
    with pytest.raises(InvalidInput):
        issues_reorder(actor=SYSTEM, org=org, status="todo", keys=[mine.key, theirs.key], moved=mine.key)
    with pytest.raises(InvalidInput):
        issues_reorder(actor=SYSTEM, org=org, status="in_progress", keys=[mine.key], moved=mine.key)
    theirs.refresh_from_db()
    assert theirs.board_position is None


def test_it_keeps_the_manual_order_under_filters_and_bulk_changes(client: Any, org: Any) -> None:
    a, b, c = (
        make_issue(org, title=t, priority=p, type=k) for t, p, k in (("A", 1, "bug"), ("B", 4, "bug"), ("C", 2, "docs"))
    )
    # The board filtered to bugs and docs (multi-select); the drop names the column's visible cards.
    response = client.post(
        "/issues/reorder?type=bug&type=docs&status=todo&status=in_progress",
        {"status": "todo", "keys": f"{c.key},{a.key},{b.key}", "moved": c.key},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.count('<section class="column"') == 2  # the filter kept
    assert column(client) == [c.key, a.key, b.key]
    # A bulk priority change leaves the dragged order alone.
    issues_bulk_set_priority(actor=SYSTEM, org=org, keys=[a.key, b.key, c.key], priority=0)
    assert column(client) == [c.key, a.key, b.key]
