"""Work blocks (sprints), apex blocks (goals) and the alignment score."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from blocks.models import ApexStatus, WorkBlock, WorkBlockStatus
from blocks.services import (
    WORK_BLOCK_TRANSITIONS,
    alignment_score,
    apex_block_update,
    work_block_transition,
    work_block_update,
)
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden
from orgs.models import Event
from tests.factories import make_agent, make_apex_block, make_ceo, make_org, make_work_block

BOARD = Actor.human(label="board")

SPEC = {
    ("proposed", "active"),
    ("proposed", "cancelled"),
    ("active", "ready"),
    ("active", "cancelled"),
    ("ready", "shipped"),
    ("ready", "active"),
    ("ready", "cancelled"),
}


def _block_in(org: Any, status: str, **kw: Any) -> WorkBlock:
    block = make_work_block(org, **kw)
    WorkBlock.objects.filter(pk=block.pk).update(status=status)
    block.refresh_from_db()
    return block


def test_it_has_the_specified_work_block_lifecycle() -> None:
    assert {(a, b) for a, bs in WORK_BLOCK_TRANSITIONS.items() for b in bs} == SPEC


@pytest.mark.parametrize(
    ("old", "new"), [p for p in itertools.product(WorkBlockStatus.values, repeat=2) if p[0] != p[1]], ids=str
)
def test_it_enforces_every_work_block_move(org: Any, old: str, new: str) -> None:
    block = _block_in(org, old)
    if (old, new) in SPEC:
        assert work_block_transition(actor=BOARD, block=block, to=new).status == new
        assert WorkBlock.objects.get(pk=block.pk).status == new
    else:
        with pytest.raises(Conflict) as exc:
            work_block_transition(actor=BOARD, block=block, to=new)
        assert exc.value.code == "illegal_transition"
        assert exc.value.extra["allowed"] == list(WORK_BLOCK_TRANSITIONS[old])
        assert WorkBlock.objects.get(pk=block.pk).status == old


def test_it_sets_timestamps_through_the_lifecycle(org: Any) -> None:
    block = make_work_block(org)
    assert block.status == WorkBlockStatus.PROPOSED and block.activated_at is None
    work_block_transition(actor=BOARD, block=block, to="active")
    activated = WorkBlock.objects.get(pk=block.pk).activated_at
    assert activated is not None
    work_block_transition(actor=BOARD, block=block, to="ready")
    work_block_transition(actor=BOARD, block=block, to="active")  # back to work after a failed check
    row = WorkBlock.objects.get(pk=block.pk)
    assert row.activated_at == activated and row.completed_at is None
    work_block_transition(actor=BOARD, block=block, to="ready")
    work_block_transition(actor=BOARD, block=block, to="shipped")
    row = WorkBlock.objects.get(pk=block.pk)
    assert row.completed_at is not None and row.completed_at >= activated
    cancelled = make_work_block(org)
    work_block_transition(actor=BOARD, block=cancelled, to="cancelled")
    assert WorkBlock.objects.get(pk=cancelled.pk).completed_at is not None
    event = Event.objects.filter(type="work_block_updated").last()
    assert event is not None and event.data["status"] == "cancelled" and event.data["from_status"] == "proposed"


def test_it_allows_only_one_active_block_per_org(org: Any) -> None:
    first = make_work_block(org)
    second = make_work_block(org)
    work_block_transition(actor=BOARD, block=first, to="active")
    with pytest.raises(Conflict) as exc:
        work_block_transition(actor=BOARD, block=second, to="active")
    assert exc.value.code == "active_block_exists"
    assert WorkBlock.objects.get(pk=second.pk).status == "proposed"
    # Another org is unaffected.
    other = make_work_block(make_org(slug="other"))
    work_block_transition(actor=BOARD, block=other, to="active")
    # A ready block cannot go back to active while another one is active.
    work_block_transition(actor=BOARD, block=first, to="ready")
    work_block_transition(actor=BOARD, block=second, to="active")
    with pytest.raises(Conflict) as exc:
        work_block_transition(actor=BOARD, block=first, to="active")
    assert exc.value.code == "active_block_exists"


def test_it_refuses_a_stale_work_block_move(org: Any) -> None:
    block = make_work_block(org)
    stale = WorkBlock.objects.get(pk=block.pk)
    work_block_transition(actor=BOARD, block=block, to="cancelled")
    with pytest.raises(Conflict) as exc:
        work_block_transition(actor=BOARD, block=stale, to="active")
    assert exc.value.code == "stale"


def test_it_lets_only_the_board_or_ceo_move_blocks(org: Any) -> None:
    block = make_work_block(org)
    dev = make_agent(org, slug="dev")
    with pytest.raises(Forbidden):
        work_block_transition(actor=Actor.for_agent(dev), block=block, to="active")
    ceo = make_ceo(org)
    # Activation and shipping are human gates: even the CEO only asks (see the next test).
    with pytest.raises(Forbidden) as exc:
        work_block_transition(actor=Actor.for_agent(ceo), block=block, to="active")
    assert exc.value.code == "approval_required"
    assert work_block_transition(actor=Actor.for_agent(ceo), block=block, to="cancelled").status == "cancelled"


def test_it_turns_an_agent_request_to_activate_into_one_approval(org: Any) -> None:
    from approvals.models import Approval
    from blocks.services import work_block_request_transition

    block = make_work_block(org)
    ceo = make_ceo(org)
    first = work_block_request_transition(actor=Actor.for_agent(ceo), block=block, to="active")
    second = work_block_request_transition(actor=Actor.for_agent(ceo), block=block, to="active")
    assert first.pk == second.pk and first.kind == "work_block_activate"
    assert Approval.objects.filter(work_block=block).count() == 1
    block.refresh_from_db()
    assert block.status == "proposed"
    with pytest.raises(Forbidden):
        work_block_request_transition(actor=Actor.for_agent(make_agent(org, slug="dev2")), block=block, to="active")


def test_it_keeps_the_status_when_editing_a_stale_copy(org: Any) -> None:
    block = make_work_block(org)
    stale = WorkBlock.objects.get(pk=block.pk)
    work_block_transition(actor=BOARD, block=block, to="active")
    work_block_update(actor=BOARD, block=stale, title="Renamed")
    row = WorkBlock.objects.get(pk=block.pk)
    assert row.title == "Renamed"
    assert row.status == "active" and row.activated_at is not None


def test_it_keeps_the_apex_status_when_editing_a_stale_copy(org: Any) -> None:
    apex = make_apex_block(org)
    stale = type(apex).objects.get(pk=apex.pk)
    apex_block_update(actor=BOARD, apex=apex, status=ApexStatus.ARCHIVED)
    apex_block_update(actor=BOARD, apex=stale, goal="A clearer goal")
    row = type(apex).objects.get(pk=apex.pk)
    assert row.goal == "A clearer goal" and row.status == ApexStatus.ARCHIVED


def test_it_scores_none_without_open_blocks(org: Any) -> None:
    score = alignment_score(org)
    assert (score.aligned, score.total, score.percent) == (0, 0, None)
    _block_in(org, "proposed", apex_block=make_apex_block(org))
    _block_in(org, "shipped", apex_block=make_apex_block(org))
    assert alignment_score(org).percent is None


def test_it_counts_only_active_and_ready_blocks_linked_to_active_goals(org: Any) -> None:
    goal = make_apex_block(org)
    old_goal = make_apex_block(org)
    apex_block_update(actor=BOARD, apex=old_goal, status=ApexStatus.ARCHIVED)
    _block_in(org, "active", apex_block=goal)  # aligned
    _block_in(org, "ready", apex_block=goal)  # aligned
    _block_in(org, "ready", apex_block=old_goal)  # archived goal: not aligned
    _block_in(org, "ready")  # no goal
    for status in ("proposed", "shipped", "cancelled"):  # not counted at all
        _block_in(org, status, apex_block=goal)
    other = make_org(slug="other")
    _block_in(other, "active", apex_block=make_apex_block(other))  # other org: not counted
    score = alignment_score(org)
    assert (score.aligned, score.total, score.percent) == (2, 4, 50)
    apex_block_update(actor=BOARD, apex=old_goal, status=ApexStatus.ACTIVE)
    assert alignment_score(org).percent == 75
    assert alignment_score(other).percent == 100


def test_it_rounds_the_percent(org: Any) -> None:
    goal = make_apex_block(org)
    _block_in(org, "active", apex_block=goal)
    _block_in(org, "ready")
    _block_in(org, "ready")
    assert alignment_score(org).percent == 33


def test_it_refuses_a_goal_from_another_org(org: Any) -> None:
    from orgs.errors import InvalidInput

    foreign = make_apex_block(make_org(slug="other"))
    with pytest.raises(InvalidInput):
        make_work_block(org, apex_block=foreign)
    block = make_work_block(org)
    with pytest.raises(InvalidInput):
        work_block_update(actor=BOARD, block=block, apex_block=foreign)


def test_it_refuses_every_block_write_from_an_agent_of_another_org(org: Any) -> None:
    from blocks.models import ApexBlock
    from blocks.services import apex_block_create, work_block_create

    outsider = Actor.for_agent(make_ceo(make_org(slug="other")))  # a CEO, but of another org
    block = make_work_block(org, title="Ours")
    apex = make_apex_block(org, title="Our goal")
    with pytest.raises(Forbidden):
        work_block_create(actor=outsider, org=org, title="Planted")
    with pytest.raises(Forbidden):
        work_block_update(actor=outsider, block=block, title="Hijacked")
    with pytest.raises(Forbidden):
        work_block_transition(actor=outsider, block=block, to="active")
    with pytest.raises(Forbidden):
        apex_block_create(actor=outsider, org=org, title="Planted goal")
    with pytest.raises(Forbidden):
        apex_block_update(actor=outsider, apex=apex, status=ApexStatus.ARCHIVED)
    assert list(WorkBlock.objects.filter(org=org).values_list("title", "status")) == [("Ours", "proposed")]
    assert list(ApexBlock.objects.filter(org=org).values_list("title", "status")) == [("Our goal", "active")]


@pytest.mark.django_db(transaction=True)
def test_it_activates_only_one_of_several_blocks_raced_concurrently() -> None:
    from tests.orgs.threads import run_concurrently

    org = make_org()
    pks = [make_work_block(org).pk for _ in range(6)]
    results, errors = run_concurrently(
        lambda n: work_block_transition(actor=BOARD, block=WorkBlock.objects.get(pk=pks[n]), to="active").pk,
        threads=len(pks),
    )
    assert len(results) == 1
    assert len(errors) == len(pks) - 1
    assert all(isinstance(e, Conflict) and e.code == "active_block_exists" for e in errors)
    assert list(WorkBlock.objects.filter(org=org, status="active").values_list("pk", flat=True)) == results
