"""Work blocks as cycles: dates, the burndown on the block page, the current cycle, adding many issues at once."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from blocks.models import WorkBlock
from blocks.services import work_block_transition, work_block_update
from issues.bulk import do_issues_set_work_block
from issues.models import Issue
from orgs.actors import Actor
from orgs.errors import InvalidInput
from orgs.models import Activity, Event, Org
from orgs.services import membership_set
from tests.factories import make_agent, make_issue, make_org, make_user, make_work_block

SYSTEM = Actor.system("tests")


def test_it_sets_changes_and_clears_cycle_dates(org: Org) -> None:
    block = make_work_block(org, start_date="2026-12-01", end_date="2026-12-14")
    assert (block.start_date, block.end_date) == (date(2026, 12, 1), date(2026, 12, 14))
    work_block_update(actor=SYSTEM, block=block, end_date=date(2026, 12, 21))
    block.refresh_from_db()
    assert block.end_date == date(2026, 12, 21)
    row = Activity.objects.filter(verb="updated", object_type="workblock").latest("id")
    assert row.details["changes"] == {"end_date": ["2026-12-14", "2026-12-21"]}
    work_block_update(actor=SYSTEM, block=block, start_date="", end_date=None)
    block.refresh_from_db()
    assert (block.start_date, block.end_date) == (None, None)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-12-10", "2026-12-10", "end_date"),
        ("2026-12-10", "2026-12-01", "end_date"),
        ("12/10/2026", "", "start_date"),
        ("2026-01-01", "2027-06-01", "end_date"),  # longer than a year
        ("0001-01-01", "", "start_date"),
        ("", "9999-12-31", "end_date"),
    ],
)
def test_it_refuses_an_end_not_after_the_start_and_odd_dates(org: Org, start: str, end: str, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        make_work_block(org, start_date=start, end_date=end)
    assert err.value.extra["field"] == field
    block = make_work_block(org, start_date="2026-12-01", end_date="2026-12-14")
    with pytest.raises(InvalidInput):
        work_block_update(actor=SYSTEM, block=block, start_date="2026-12-20")
    block.refresh_from_db()
    assert block.start_date == date(2026, 12, 1)


def test_it_puts_many_issues_into_a_block_through_the_single_issue_rules(org: Org) -> None:
    block = make_work_block(org)
    issues = [make_issue(org, title=f"Bulk {n}") for n in range(3)]
    already = make_issue(org, title="Already in", work_block=block)
    assert do_issues_set_work_block(actor=SYSTEM, issues=[*issues, already], work_block=block) == 3
    assert set(Issue.objects.filter(work_block=block).values_list("title", flat=True)) == {
        "Bulk 0",
        "Bulk 1",
        "Bulk 2",
        "Already in",
    }
    for issue in issues:
        assert Event.objects.filter(type="issue_updated", data__key=issue.key).exists()
        assert Activity.objects.filter(verb="updated", object_id=issue.key, details__changes__has_key="work_block")


def test_it_puts_none_in_when_one_is_refused(org: Org) -> None:
    block = make_work_block(org)
    mine = make_issue(org, title="Mine")
    foreign = make_issue(make_org(name="Other", slug="other", issue_prefix="OTH"), title="Theirs")
    with pytest.raises(InvalidInput):
        do_issues_set_work_block(actor=SYSTEM, issues=[mine, foreign], work_block=block)
    assert not Issue.objects.filter(work_block=block).exists()
    work_block_transition(actor=SYSTEM, block=block, to="cancelled")
    mine.refresh_from_db()  # the refused call changed the instance before rolling back
    with pytest.raises(InvalidInput):
        do_issues_set_work_block(actor=SYSTEM, issues=[mine], work_block=block)


# --- pages ----------------------------------------------------------------------------------------------------


def test_it_edits_dates_in_the_browser_form_with_inline_errors(client: Any, org: Org) -> None:
    block = make_work_block(org, title="Cycle 3")
    url = f"/blocks/{block.pk}/edit"
    response = client.post(url, {"title": "Cycle 3", "start_date": "2026-12-01", "end_date": "2026-12-14"})
    assert response.status_code == 302
    block.refresh_from_db()
    assert (block.start_date, block.end_date) == (date(2026, 12, 1), date(2026, 12, 14))
    response = client.post(url, {"title": "Cycle 3 renamed", "start_date": "2026-12-20", "end_date": "2026-12-14"})
    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(r'id="date-error" role="alert">The end date \(2026-12-14\) must be after', body)
    assert 'name="end_date" value="2026-12-14" aria-invalid="true"' in body
    assert 'value="Cycle 3 renamed"' in body  # what was typed is kept
    block.refresh_from_db()
    assert (block.title, block.start_date) == ("Cycle 3", date(2026, 12, 1))


def test_it_draws_the_burndown_on_the_block_page(client: Any, org: Org, django_assert_max_num_queries: Any) -> None:
    today = timezone.localdate()
    block = make_work_block(org, start_date=today - timedelta(days=1), end_date=today + timedelta(days=4))
    agent = make_agent(org)
    for n in range(3):
        make_issue(org, title=f"Planned {n}", work_block=block, assignee=agent)
    body = client.get(f"/blocks/{block.pk}/").content.decode()
    assert 'class="chart burndown"' in body
    assert re.findall(r'data-remaining="(\d+)"', body) == ["0", "3"]  # nothing was in it yesterday
    assert 'class="scope-change"' in body and ">+3<" in body
    assert '<line class="ideal"' in body
    for n in range(20):
        make_issue(org, title=f"More {n}", work_block=block)
    with django_assert_max_num_queries(20):
        client.get(f"/blocks/{block.pk}/")


def test_it_adds_many_issues_from_the_block_page_with_a_toast(client: Any, org: Org) -> None:
    block = make_work_block(org, title="Cycle 9")
    picks = [make_issue(org, title=f"Pick {n}") for n in range(3)]
    done = make_issue(org, title="Finished already")
    Issue.objects.filter(pk=done.pk).update(status="done")
    page = client.get(f"/blocks/{block.pk}/").content.decode()
    assert all(f'name="key" value="{i.key}"' in page for i in picks)
    assert f'value="{done.key}"' not in page  # only open issues are offered
    response = client.post(f"/blocks/{block.pk}/issues", {"key": [p.key for p in picks]}, follow=True)
    assert "Added 3 issues to Cycle 9." in response.content.decode()
    assert Issue.objects.filter(work_block=block).count() == 3
    response = client.post(f"/blocks/{block.pk}/issues", {"key": ["ACME-999"]}, follow=True)
    assert "There is no issue ACME-999" in response.content.decode()


def test_it_shows_the_current_cycle_on_the_blocks_list(client: Any, org: Org) -> None:
    today = timezone.localdate()
    block = make_work_block(
        org, title="Cycle now", start_date=today - timedelta(days=4), end_date=today + timedelta(days=3)
    )
    make_work_block(org, title="Cycle later", start_date=today + timedelta(days=5), end_date=today + timedelta(days=9))
    done = make_issue(org, work_block=block)
    make_issue(org, work_block=block)
    Issue.objects.filter(pk=done.pk).update(status="done")
    body = client.get("/blocks/").content.decode()
    current = body[body.index('id="current-cycle"') : body.index('class="table-wrap"')]
    assert "Cycle now" in current and "Cycle later" not in current
    assert "ends in 3 days" in current
    assert '<span class="cycle-progress">50%</span>' in current


def test_it_shows_no_current_cycle_without_one_running_today(client: Any, org: Org) -> None:
    today = timezone.localdate()
    make_work_block(org, title="Past", start_date=today - timedelta(days=9), end_date=today - timedelta(days=2))
    assert 'id="current-cycle"' not in client.get("/blocks/").content.decode()
    assert WorkBlock.objects.count() == 1


def test_it_lets_neither_a_viewer_nor_another_org_add_issues(client: Any, org: Org, settings: Any) -> None:
    block = make_work_block(org, title="Guarded")
    issue = make_issue(org, title="Stay out")
    other = make_org(name="Other", slug="other", issue_prefix="OTH")
    foreign_block = make_work_block(other, title="Theirs")
    settings.MESA_TRUSTED_LOCAL = False
    user = make_user()
    client.force_login(user)
    membership_set(actor=SYSTEM, org=org, user=user, role="viewer")
    response = client.post(f"/blocks/{block.pk}/issues", {"key": [issue.key], "org": "acme"})
    assert response.status_code == 403
    response = client.post(f"/blocks/{block.pk}/edit", {"start_date": "2026-12-01", "org": "acme"})
    assert response.status_code == 403
    membership_set(actor=SYSTEM, org=org, user=user, role="member")
    response = client.post(f"/blocks/{foreign_block.pk}/issues", {"key": [issue.key], "org": "acme"})
    assert response.status_code == 404
    issue.refresh_from_db()
    block.refresh_from_db()
    assert issue.work_block_id is None and block.start_date is None
