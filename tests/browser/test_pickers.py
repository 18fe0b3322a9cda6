"""Pickers: S / A / P / L open a searchable, keyboard-driven popover; filters are multi-select (issue 12, Feel)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python
from tests.browser.test_dashboard import an_agent, make_issue, open_live

pytestmark = pytest.mark.browser

FIELD = "from issues.models import Issue\nprint(Issue.objects.get(key={key!r}).{field})"
LABEL = """
from orgs.models import Org
from orgs.actors import Actor
from issues.models import Label
from issues.labels import label_create
org = Org.objects.get(slug="mesa")
if not Label.objects.filter(org=org, name={name!r}).exists():
    label_create(actor=Actor.system("seed"), org=org, name={name!r})
"""
LABELS = (
    "from issues.models import Issue\n"
    "print(sorted(Issue.objects.get(key={key!r}).labels.values_list('name', flat=True)))"
)


def field(server: Server, key: str, name: str) -> str:
    return run_python(server.db, FIELD.format(key=key, field=name)).strip()


def options(page: Page) -> list[str]:
    return page.locator(".picker-pop .picker-label").all_inner_texts()


def test_it_sets_the_status_with_s_offering_only_legal_moves(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Status picker on the issue page", assignee=an_agent(mesa))
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("s")
    popover = page.locator(".picker-pop")
    expect(popover).to_be_visible()
    expect(popover.locator(".picker-input")).to_be_focused()
    # From todo the lifecycle allows in progress, blocked and cancelled: never done.
    assert options(page) == ["In progress", "Blocked", "Cancelled"]
    page.keyboard.type("prog")
    expect(popover.locator(".picker-label")).to_have_text(["In progress"])
    page.keyboard.press("Enter")
    expect(popover).to_have_count(0)
    expect(page.locator("#field-status option").first).to_have_text("In progress")
    assert field(mesa, key, "status") == "in_progress"


def test_it_closes_with_esc_and_moves_with_the_arrows(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Priority picker with the arrows")
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("p")
    popover = page.locator(".picker-pop")
    expect(popover).to_be_visible()
    page.keyboard.press("Escape")
    expect(popover).to_have_count(0)
    assert field(mesa, key, "priority") == "0"
    page.keyboard.press("p")
    # It starts on the current value ("No priority"); the arrows move on from there.
    expect(popover.locator(".picker-item.is-active .picker-label")).to_have_text("No priority")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(popover.locator(".picker-item.is-active .picker-label")).to_have_text("Low")
    page.keyboard.press("Enter")
    expect(page.locator("#field-priority")).to_have_value("1")
    assert field(mesa, key, "priority") == "1"


def test_it_opens_the_picker_instead_of_a_native_select(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Assignee picker by click")
    agent = an_agent(mesa)
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.locator("#field-assignee").click()
    popover = page.locator(".picker-pop")
    expect(popover).to_be_visible()
    assert options(page)[0] == "Unassigned"
    name = run_python(
        mesa.db, f"from agents.models import Agent\nprint(Agent.objects.get(slug={agent!r}).name)"
    ).strip()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    expect(page.locator("#field-assignee")).to_have_value(agent)
    assert field(mesa, key, "assignee.slug") == agent


def test_it_toggles_labels_with_l(page: Page, mesa: Server) -> None:
    run_python(mesa.db, LABEL.format(name="frontend") + LABEL.format(name="infra"))
    key = make_issue(mesa, "Label picker on the issue page")
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("l")
    popover = page.locator(".picker-pop")
    expect(popover).to_be_visible()
    page.keyboard.type("infr")
    page.keyboard.press("Enter")  # multi-select: the popover stays open
    expect(popover.locator(".picker-item.is-checked .picker-label")).to_have_text(["infra"])
    expect(page.locator("#field-labels input[value=infra]")).to_be_checked()
    page.keyboard.press("Escape")
    expect(popover).to_have_count(0)
    assert run_python(mesa.db, LABELS.format(key=key)).strip() == "['infra']"


def test_it_sets_a_focused_cards_priority_with_p(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Focused card priority zeta")
    open_live(page, mesa.url + "/issues/?q=zeta")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    expect(page.locator(f".card[data-key='{key}'] .card-title.is-selected")).to_have_count(1)
    page.keyboard.press("p")
    popover = page.locator(".picker-pop")
    expect(popover).to_be_visible()
    page.keyboard.type("high")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("Priority: 1 issue updated.")
    assert field(mesa, key, "priority") == "3"


def test_it_filters_by_several_statuses_with_the_url_as_state(page: Page, mesa: Server) -> None:
    agent = an_agent(mesa)
    todo = make_issue(mesa, "Multi filter omega todo")
    started = make_issue(mesa, "Multi filter omega started", assignee=agent)
    blocked = make_issue(mesa, "Multi filter omega blocked", assignee=agent)
    run_python(
        mesa.db,
        "from issues.models import Issue\n"
        f"Issue.objects.filter(key={started!r}).update(status='in_progress')\n"
        f"Issue.objects.filter(key={blocked!r}).update(status='blocked')",
    )
    open_live(page, mesa.url + "/issues/?q=omega&view=board")
    cards = page.locator("#board-columns .card")
    expect(cards).to_have_count(3)
    page.locator("[data-picker-menu=status] > summary").click()
    popover = page.locator(".picker-pop")
    expect(popover).to_be_visible()
    page.keyboard.type("todo")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"status=todo"))
    expect(cards).to_have_count(1)
    page.keyboard.press("Control+a")
    page.keyboard.type("in prog")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"status=todo&status=in_progress"))
    expect(cards).to_have_count(2)
    expect(page.locator(f".card[data-key='{blocked}']")).to_have_count(0)
    expect(page.locator("#board-columns .column")).to_have_count(2)
    page.keyboard.press("Escape")
    expect(page.locator("[data-picker-menu=status] > summary")).to_have_text("Status: 2")
    # Back: one status again, and the toolbar says so; forward: both.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"in_progress"))
    expect(cards).to_have_count(1)
    expect(page.locator(f".card[data-key='{todo}']")).to_have_count(1)
    expect(page.locator("[data-picker-menu=status] > summary")).to_have_text("Status: Todo")
    page.go_forward()
    expect(cards).to_have_count(2)
    # The link is shareable: a fresh page at that address shows the same two.
    page.goto(page.url)
    expect(cards).to_have_count(2)
    expect(page.locator("[data-picker-menu=status] input:checked")).to_have_count(2)
