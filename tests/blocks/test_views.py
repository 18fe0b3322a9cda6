from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from blocks.models import WorkBlock
from issues.models import Issue
from orgs.actors import Actor
from tests.factories import make_agent, make_apex_block, make_issue, make_org, make_run, make_work_block


def test_it_lists_blocks_with_metrics(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    from django.utils import timezone

    agent = make_agent(org)
    block = make_work_block(org, title="Sprint A")
    done = make_issue(org, title="Done one", work_block=block, assignee=agent)
    make_issue(org, title="Open one", work_block=block)
    now = timezone.now()
    Issue.objects.filter(pk=done.pk).update(status="done", started_at=now - timedelta(hours=2), completed_at=now)
    make_run(agent, issue=done, status="completed", cost_usd=Decimal("0.75"))
    for i in range(20):
        make_work_block(org, title=f"Other {i}")
    with django_assert_max_num_queries(12):
        response = client.get("/blocks/")
    body = response.content.decode()
    assert "Sprint A" in body and "$0.75" in body and "2h 00m" in body
    detail = client.get(f"/blocks/{block.pk}/").content.decode()
    assert "1 / 2" in detail and "Done one" in detail and "Activate" in detail


def test_it_proposes_and_moves_a_block_through_its_lifecycle(client: Any, org: Any) -> None:
    goal = make_apex_block(org, title="Goal")
    response = client.post("/blocks/", {"title": "New sprint", "goal": "Do it", "apex_block": str(goal.pk)})
    block = WorkBlock.objects.get(title="New sprint")
    assert response["Location"] == f"/blocks/{block.pk}/" and block.apex_block == goal
    client.post(f"/blocks/{block.pk}/move", {"status": "active"})
    block.refresh_from_db()
    assert block.status == "active"


def test_it_refuses_a_second_active_block_with_the_reason(client: Any, org: Any) -> None:
    first = make_work_block(org, title="First")
    second = make_work_block(org, title="Second")
    client.post(f"/blocks/{first.pk}/move", {"status": "active"})
    response = client.post(f"/blocks/{second.pk}/move", {"status": "active"}, follow=True)
    assert "already active" in response.content.decode()
    second.refresh_from_db()
    assert second.status == "proposed"
    response = client.post(f"/blocks/{second.pk}/move", {"status": "shipped"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and "cannot move from proposed to shipped" in response.content.decode()
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.status == "proposed" and first.status == "active"


def test_it_edits_a_block(client: Any, org: Any) -> None:
    block = make_work_block(org, title="Before")
    client.post(f"/blocks/{block.pk}/edit", {"title": "After", "goal": "g", "north_star_metric": "p95"})
    block.refresh_from_db()
    assert (block.title, block.north_star_metric) == ("After", "p95")


def test_it_shows_strategy_alignment_and_drift(client: Any, org: Any) -> None:
    from blocks.services import work_block_transition
    from tests.factories import SYSTEM

    goal = make_apex_block(org, title="Win partners")
    aligned = make_work_block(org, title="Aligned work", apex_block=goal)
    drifting = make_work_block(org, title="Drifting work")
    work_block_transition(actor=SYSTEM, block=drifting, to="active")
    work_block_transition(actor=SYSTEM, block=drifting, to="ready")
    work_block_transition(actor=SYSTEM, block=aligned, to="active")
    make_issue(org, title="Drift issue", work_block=drifting)
    body = client.get("/strategy/").content.decode()
    assert "Win partners" in body and "Aligned work" in body and "50%" in body
    assert "Unaligned active work" in body and "Drifting work" in body and "1 open issues" in body


def test_it_adds_and_archives_goals(client: Any, org: Any) -> None:
    assert client.post("/strategy/", {"title": "New goal", "goal": "why"}).status_code == 302
    goal = org.apex_blocks.get()
    client.post("/strategy/", {"apex": str(goal.pk), "status": "archived"})
    goal.refresh_from_db()
    assert goal.status == "archived"
    response = client.post("/strategy/", {"title": ""})
    assert response.status_code == 400 and "title is required" in response.content.decode()


def test_it_hides_blocks_of_another_org(client: Any, org: Any) -> None:
    foreign = make_work_block(make_org())
    assert client.get(f"/blocks/{foreign.pk}/").status_code == 404
    assert client.post(f"/blocks/{foreign.pk}/move", {"status": "active"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "proposed"


def test_it_keeps_a_block_linked_to_an_archived_goal_when_saving_its_form(client: Any, org: Any) -> None:
    from blocks.services import apex_block_update

    apex = make_apex_block(org, title="Old goal")
    block = make_work_block(org, title="Sprint", apex_block=apex)
    apex_block_update(actor=Actor.system("tests"), apex=apex, status="archived")
    page = client.get(f"/blocks/{block.pk}/").content.decode()
    assert f'<option value="{apex.pk}" selected>Old goal</option>' in page


def test_it_leaves_archived_issues_out_of_the_block_pages(client: Any, org: Any) -> None:
    from blocks.services import work_block_transition
    from issues.archive import issue_archive
    from tests.factories import SYSTEM

    agent = make_agent(org)
    block = make_work_block(org, title="Sprint B")
    done = make_issue(org, title="Done here", work_block=block, assignee=agent)
    Issue.objects.filter(pk=done.pk).update(status="done")
    make_issue(org, title="Open here", work_block=block)
    shelved = make_issue(org, title="Shelved here", work_block=block, assignee=agent)
    make_run(agent, issue=shelved, status="completed", cost_usd=Decimal("9.50"))
    loose = make_issue(org, title="Shelved loose")
    board = Actor.human(label="board")
    issue_archive(actor=board, issue=shelved)
    issue_archive(actor=board, issue=loose)
    listing = client.get("/blocks/").content.decode()
    assert "$9.50" not in listing
    detail = client.get(f"/blocks/{block.pk}/").content.decode()
    assert "1 / 2" in detail and "width:50%" in detail.replace(".0%", "%")
    assert "Shelved here" not in detail and "Open here" in detail
    assert f'value="{loose.key}"' not in detail  # not offered by "Add issues" either
    work_block_transition(actor=SYSTEM, block=block, to="active")
    work_block_transition(actor=SYSTEM, block=block, to="ready")
    Issue.objects.filter(pk=done.pk).update(status="in_progress")
    strategy = client.get("/strategy/").content.decode()
    assert "2 open issues" in strategy and "3 open issues" not in strategy
