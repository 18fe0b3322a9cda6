"""Work blocks as cycles in the browser (issue 12): dates with inline errors, the burndown, adding many issues."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python

pytestmark = pytest.mark.browser

# A cycle that started three days ago and ends in four; the history is moved back in time after each step:
# A, B, C planned the day before, D joins on day 1, C leaves and A is done on day 2 (today is day 3).
SEED_HISTORY = """
from datetime import datetime, time, timedelta
from django.utils import timezone
from agents.models import Agent
from blocks.services import work_block_create
from issues.models import Issue
from issues.services import do_issue_transition, do_issue_update, issue_create
from orgs.actors import Actor
from orgs.models import Activity, Org

org = Org.objects.get(slug="mesa")
board = Actor.human(label="local")
agent = Agent.objects.filter(org=org).exclude(archetype="ceo").order_by("id").first()
today = timezone.localdate()
start = today - timedelta(days=3)
block = work_block_create(actor=board, org=org, title={title!r}, start_date=start, end_date=start + timedelta(days=7))
seen = Activity.objects.order_by("-id").first().id

def at(day, *issues):
    global seen
    moment = timezone.make_aware(datetime.combine(start + timedelta(days=day), time(12)))
    Activity.objects.filter(id__gt=seen).update(created_at=moment)
    Issue.objects.filter(pk__in=[i.pk for i in issues]).update(created_at=moment)
    seen = Activity.objects.order_by("-id").first().id

a, b, c = (
    issue_create(actor=board, org=org, title=f"{{block.title}} {{t}}", work_block=block, assignee=agent) for t in "ABC"
)
d = issue_create(actor=board, org=org, title=f"{{block.title}} D")
at(-1, a, b, c, d)
do_issue_update(actor=board, issue=d, work_block=block)
at(1)
do_issue_update(actor=board, issue=c, work_block=None)
for to in ("in_progress", "in_review", "done"):
    do_issue_transition(actor=board, issue=a, to=to)
at(2)
print(block.pk)
"""

MAKE_BLOCK = """
from blocks.services import work_block_create
from issues.services import issue_create
from orgs.actors import Actor
from orgs.models import Org
org = Org.objects.get(slug="mesa")
board = Actor.human(label="local")
block = work_block_create(actor=board, org=org, title={title!r})
keys = [issue_create(actor=board, org=org, title=t).key for t in {titles!r}]
print(block.pk, *keys)
"""


def test_it_draws_the_burndown_from_the_history(page: Page, mesa: Server) -> None:
    block = run_python(mesa.db, SEED_HISTORY.format(title="Burndown cycle")).strip()
    page.goto(f"{mesa.url}/blocks/{block}/")
    chart = page.locator("svg.burndown")
    expect(chart).to_be_visible()
    points = chart.locator("circle.point")
    expect(points).to_have_count(4)
    remaining = points.evaluate_all("els => els.map(e => [e.dataset.scope, e.dataset.remaining])")
    assert remaining == [["3", "3"], ["4", "4"], ["3", "2"], ["3", "2"]]
    # The drawn line goes down as issues close: day 2's point is lower on screen than day 1's.
    boxes = [points.nth(i).bounding_box() for i in range(4)]
    assert all(box is not None for box in boxes)
    assert boxes[2]["y"] > boxes[1]["y"]  # type: ignore[index]
    # The ideal runs from the start scope (3, same height as day 0's point) down to the axis.
    ideal = chart.locator("line.ideal")
    assert float(ideal.get_attribute("y1") or 0) == pytest.approx(float(points.nth(0).get_attribute("cy") or 0))
    assert float(ideal.get_attribute("y2") or 0) > float(ideal.get_attribute("y1") or 0)
    changes = chart.locator("text.scope-change")
    assert changes.evaluate_all("els => els.map(e => e.firstChild.textContent)") == ["+1", "−1"]
    expect(page.locator(".cycle-when")).to_have_text("ends in 4 days")
    page.goto(f"{mesa.url}/blocks/")
    expect(page.locator("#current-cycle")).to_contain_text("Burndown cycle")
    expect(page.locator("#current-cycle")).to_contain_text("ends in 4 days")
    expect(page.locator("#current-cycle .cycle-progress")).to_have_text("33%")


def test_it_sets_the_dates_in_the_edit_form_and_explains_a_wrong_end(page: Page, mesa: Server) -> None:
    block = run_python(mesa.db, MAKE_BLOCK.format(title="Dated cycle", titles=[])).split()[0]
    page.goto(f"{mesa.url}/blocks/{block}/")
    expect(page.locator("svg.burndown")).to_have_count(0)
    page.locator("#block-edit summary").click()
    form = page.locator("#block-edit form")
    form.locator("input[name=start_date]").fill("2026-12-10")
    form.locator("input[name=end_date]").fill("2026-12-01")
    form.get_by_role("button", name="Save").click()
    error = page.locator("#date-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("must be after the start date")
    expect(page.locator("#block-edit input[name=end_date]")).to_have_attribute("aria-invalid", "true")
    page.locator("#block-edit input[name=end_date]").fill("2026-12-24")
    page.locator("#block-edit").get_by_role("button", name="Save").click()
    expect(page.locator(".cycle-dates")).to_have_text("Dec 10 – Dec 24")
    expect(page.locator("svg.burndown")).to_have_count(1)


def test_it_adds_many_issues_at_once_from_the_block_page(page: Page, mesa: Server) -> None:
    titles = ["Cyclepick alpha", "Cyclepick beta", "Cyclepick gamma", "Unrelated delta"]
    block, *keys = run_python(mesa.db, MAKE_BLOCK.format(title="Pick cycle", titles=titles)).split()
    page.goto(f"{mesa.url}/blocks/{block}/")
    page.get_by_role("button", name="Add issues").click()
    dialog = page.locator("dialog#add-issues")
    expect(dialog).to_be_visible()
    search = dialog.locator("[data-pick-filter]")
    expect(search).to_be_focused()
    search.fill("cyclepick")
    rows = dialog.locator(".pick-row:visible")
    expect(rows).to_have_count(3)
    for i in range(3):
        rows.nth(i).locator("input").check()
    search.fill("gamma")
    expect(rows).to_have_count(1)
    expect(dialog.locator("[data-picked-count]")).to_have_text("3 selected")
    dialog.get_by_role("button", name="Add 3 issues").click()
    expect(page.locator("#toasts .toast")).to_have_text("Added 3 issues to Pick cycle.")
    for key in keys[:3]:
        expect(page.locator(f"a.subissue[href='/issues/{key}/']")).to_be_visible()
    query = f"Issue.objects.filter(work_block_id={block}).values_list('key', flat=True)"
    out = run_python(mesa.db, f"from issues.models import Issue\nprint(sorted({query}))")
    assert re.findall(r"[A-Z]+-\d+", out) == sorted(keys[:3])
