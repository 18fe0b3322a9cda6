"""Bulk actions: X and shift-click select cards / rows, the bulk bar changes them all (issue 12, Feel)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python
from tests.browser.test_dashboard import an_agent, make_issue, open_live

pytestmark = pytest.mark.browser

VALUES = (
    "import json\nfrom issues.models import Issue\n"
    "print(json.dumps(dict(Issue.objects.filter(key__in={keys!r}).values_list('key', {field!r}))))"
)


def values(server: Server, keys: list[str], field: str) -> dict[str, object]:
    return dict(json.loads(run_python(server.db, VALUES.format(keys=keys, field=field))))


def test_it_selects_cards_with_x_and_sets_their_priority(page: Page, mesa: Server) -> None:
    first = make_issue(mesa, "Bulk priority kappa one")
    second = make_issue(mesa, "Bulk priority kappa two")
    open_live(page, mesa.url + "/issues/?q=kappa&view=board")
    bar = page.locator("#bulk-bar")
    expect(bar).to_be_hidden()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator(".card.is-picked")).to_have_count(2)
    expect(bar).to_be_visible()
    expect(bar.locator("[data-bulk-count]")).to_have_text("2 selected")
    bar.locator("[data-bulk=priority]").click()
    page.keyboard.type("urgent")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("Priority: 2 issues updated.")
    assert values(mesa, [first, second], "priority") == {first: 4, second: 4}
    # The selection survives the re-render; Esc clears it.
    expect(page.locator(".card.is-picked")).to_have_count(2)
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()


def test_it_selects_a_range_with_shift_click_and_reports_refused_moves(page: Page, mesa: Server) -> None:
    agent = an_agent(mesa)
    keys = [
        make_issue(mesa, "Bulk status lambda a", assignee=agent, priority=4),
        make_issue(mesa, "Bulk status lambda b", priority=3),  # unassigned: cannot start
        make_issue(mesa, "Bulk status lambda c", assignee=agent, priority=2),
    ]
    open_live(page, mesa.url + "/issues/?q=lambda&view=list")
    rows = page.locator(".list-row[data-key]")
    expect(rows).to_have_count(3)
    rows.nth(0).click(modifiers=["Shift"])
    rows.nth(2).click(modifiers=["Shift"])
    expect(page.locator(".list-row.is-picked")).to_have_count(3)
    assert page.url.endswith("view=list")  # shift-click selected, it did not open the issue
    page.locator("#bulk-bar [data-bulk=status]").click()
    page.keyboard.type("in progress")
    page.keyboard.press("Enter")
    toast = page.locator("#toasts")
    expect(toast).to_contain_text("Status: 2 issues updated.")
    expect(toast).to_contain_text(f"{keys[1]}: {keys[1]} has no assignee")
    assert values(mesa, keys, "status") == {keys[0]: "in_progress", keys[1]: "todo", keys[2]: "in_progress"}


def test_it_adds_and_removes_a_label_and_sets_the_assignee_in_bulk(page: Page, mesa: Server) -> None:
    run_python(
        mesa.db,
        "from orgs.models import Org\nfrom orgs.actors import Actor\nfrom issues.models import Label\n"
        "from issues.labels import label_create\norg = Org.objects.get(slug='mesa')\n"
        "Label.objects.filter(org=org, name='bulkish').exists() or "
        "label_create(actor=Actor.system('seed'), org=org, name='bulkish')",
    )
    agent = an_agent(mesa)
    keys = [make_issue(mesa, "Bulk labels sigma one"), make_issue(mesa, "Bulk labels sigma two")]
    open_live(page, mesa.url + "/issues/?q=sigma&view=list")
    rows = page.locator(".list-row[data-key]")
    rows.nth(0).click(modifiers=["Shift"])
    rows.nth(1).click(modifiers=["Shift"])
    bar = page.locator("#bulk-bar")
    bar.locator("[data-bulk=labels]").click()
    page.keyboard.type("bulkish")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("Label added: 2 issues updated.")
    labels = (
        "from issues.models import Issue\nprint(Issue.objects.filter(key__in={k!r}, labels__name='bulkish').count())"
    )
    assert run_python(mesa.db, labels.format(k=keys)).strip() == "2"
    page.keyboard.press("Enter")  # still open: the same label again takes it off
    expect(page.locator("#toasts")).to_contain_text("Label removed: 2 issues updated.")
    assert run_python(mesa.db, labels.format(k=keys)).strip() == "0"
    page.keyboard.press("Escape")
    bar.locator("[data-bulk=assignee]").click()
    name = run_python(
        mesa.db, f"from agents.models import Agent\nprint(Agent.objects.get(slug={agent!r}).name)"
    ).strip()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("Assignee: 2 issues updated.")
    assert values(mesa, keys, "assignee__slug") == {keys[0]: agent, keys[1]: agent}
