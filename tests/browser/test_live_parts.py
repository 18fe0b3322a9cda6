"""Parts of pages that follow live events without a reload (issue 12, bugs 2-4)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python
from tests.browser.test_dashboard import assert_not_reloaded, make_issue, open_live

pytestmark = pytest.mark.browser

APPROVAL = """
from orgs.models import Org
from orgs.actors import Actor
from approvals.services import approval_create
org = Org.objects.get(slug="mesa")
print(approval_create(actor=Actor.system("seed"), org=org, title={title!r}).pk)
"""

RESOLVE = """
from orgs.actors import Actor
from approvals.models import Approval
from approvals.services import approval_resolve
approval_resolve(actor=Actor.system("seed"), approval=Approval.objects.get(pk={pk}), decision="approved")
"""

PENDING = "from approvals.models import Approval\nprint(Approval.objects.filter(status='pending').count())"


def test_it_updates_the_approvals_badge_live(page: Page, mesa: Server) -> None:
    open_live(page, mesa.url + "/issues/")
    before = int(run_python(mesa.db, PENDING).strip())
    badge = page.locator("#approvals-badge")
    pk = run_python(mesa.db, APPROVAL.format(title="Ship the thing")).strip()
    expect(badge).to_have_text(str(before + 1))
    run_python(mesa.db, RESOLVE.format(pk=pk))
    expect(badge).to_have_text(str(before) if before else "")
    assert_not_reloaded(page)


def test_it_updates_recently_changed_issues_on_the_dashboard_live(page: Page, mesa: Server) -> None:
    open_live(page, mesa.url + "/")
    make_issue(mesa, "Freshly changed while you watch")
    expect(page.locator("#recent-issues")).to_contain_text("Freshly changed while you watch")
    assert_not_reloaded(page)


RUN = """
from agents.models import Agent
from runners.models import Run
agent = Agent.objects.exclude(archetype='ceo').order_by('id').first()
print(Run.objects.create(org=agent.org, agent=agent, runner=agent.runner, status="running").pk)
"""

FINISH = """
from runners.models import Run
from runners.services import run_finish
run_finish(run=Run.objects.get(pk={pk}), status="completed", exit_code=0)
"""


def test_it_shows_when_a_run_finished_live(page: Page, mesa: Server) -> None:
    pk = run_python(mesa.db, RUN).strip()
    open_live(page, f"{mesa.url}/runs/{pk}/")
    finished = page.locator("#run-finished")
    expect(finished).to_have_text("—")
    run_python(mesa.db, FINISH.format(pk=pk))
    expect(finished).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"))
    assert_not_reloaded(page)
