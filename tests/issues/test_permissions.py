"""Who may change which issue (issues/permissions.py) and who may read it (issues/selectors.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from agents.models import Agent
from agents.selectors import is_ceo, manages
from agents.services import agent_update
from issues.comments import comment_create
from issues.models import Issue, Status
from issues.permissions import edit_denial, require_edit, require_org
from issues.selectors import issue_get_for
from issues.services import issue_transition, issue_update
from orgs.actors import Actor
from orgs.errors import Forbidden, NotFound
from tests.factories import make_agent, make_ceo, make_issue, make_org

BOARD = Actor.human(label="alice")


@dataclass
class Team:
    ceo: Agent
    lead: Agent
    dev: Agent
    intern: Agent
    qa: Agent
    peer: Agent
    outsider: Agent


@pytest.fixture
def team(org: Any) -> Team:
    ceo = make_ceo(org)
    lead = make_agent(org, slug="lead", reports_to=ceo)
    qa = make_agent(org, slug="qa", archetype="qa", reports_to=ceo)
    dev = make_agent(org, slug="dev", reports_to=lead, review_agent=qa)
    intern = make_agent(org, slug="intern", reports_to=dev)
    peer = make_agent(org, slug="peer", reports_to=ceo)
    outsider = make_ceo(make_org(slug="other", issue_prefix="OTH"), slug="ceo")
    return Team(ceo=ceo, lead=lead, dev=dev, intern=intern, qa=qa, peer=peer, outsider=outsider)


def test_it_recognises_the_ceo_as_the_root_with_the_ceo_archetype(org: Any, team: Team) -> None:
    assert is_ceo(team.ceo)
    assert not is_ceo(team.lead)
    chair = make_agent(org, slug="chair")
    agent_update(actor=BOARD, agent=team.ceo, reports_to=chair)  # a CEO with a manager is not the CEO
    assert not is_ceo(Agent.objects.get(pk=team.ceo.pk))
    assert not is_ceo(make_agent(org, slug="root-dev"))  # a root that is not a ceo archetype


def test_it_follows_the_whole_management_chain(team: Team) -> None:
    assert manages(team.lead, team.dev.pk)
    assert manages(team.lead, team.intern.pk)  # further down
    assert manages(team.ceo, team.intern.pk)
    assert not manages(team.dev, team.lead.pk)  # not upwards
    assert not manages(team.peer, team.dev.pk)
    assert not manages(team.dev, team.dev.pk)
    assert not manages(team.lead, None)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("dev", True),  # the assignee
        ("lead", True),  # direct manager
        ("ceo", True),  # the CEO (also the top of the chain)
        ("qa", True),  # the assignee's reviewer
        ("intern", False),  # reports to the assignee: no rights upwards
        ("peer", False),
        ("outsider", False),  # an agent of another org
    ],
)
def test_it_decides_who_may_change_an_assigned_issue(org: Any, team: Team, who: str, allowed: bool) -> None:
    issue = make_issue(org, assignee=team.dev)
    actor = Actor.for_agent(getattr(team, who))
    reason = edit_denial(actor, issue)
    assert (reason is None) == allowed
    if allowed:
        issue_update(actor=actor, issue=issue, priority=3)
        comment_create(actor=actor, issue=issue, body=f"{who} was here")
        assert Issue.objects.get(pk=issue.pk).priority == 3
    else:
        with pytest.raises(Forbidden):
            require_edit(actor, issue)
        with pytest.raises(Forbidden):
            issue_update(actor=actor, issue=issue, priority=3)
        with pytest.raises(Forbidden):
            issue_transition(actor=actor, issue=issue, to=Status.IN_PROGRESS)
        with pytest.raises(Forbidden):
            comment_create(actor=actor, issue=issue, body="nope")
        row = Issue.objects.get(pk=issue.pk)
        assert (row.priority, row.status, row.comments.count()) == (0, Status.TODO, 0)


def test_it_explains_the_refusals(org: Any, team: Team) -> None:
    issue = make_issue(org, assignee=team.dev)
    assert "another org" in (edit_denial(Actor.for_agent(team.outsider), issue) or "")
    peer_reason = edit_denial(Actor.for_agent(team.peer), issue) or ""
    assert "assigned to dev" in peer_reason and issue.key in peer_reason


def test_it_keeps_unassigned_issues_to_the_ceo_and_the_board(org: Any, team: Team) -> None:
    issue = make_issue(org)
    reason = edit_denial(Actor.for_agent(team.dev), issue)
    assert reason is not None and "unassigned" in reason
    assert edit_denial(Actor.for_agent(team.ceo), issue) is None
    assert edit_denial(BOARD, issue) is None
    assert edit_denial(Actor.system("scheduler"), issue) is None
    assert edit_denial(Actor.for_agent(team.outsider), issue) == "This issue belongs to another org."


def test_it_refuses_a_human_without_board_rights(org: Any) -> None:
    issue = make_issue(org)
    assert edit_denial(Actor(kind="human", label="guest"), issue) is not None


def test_it_hides_issues_of_other_orgs_from_outsiders(org: Any, team: Team) -> None:
    issue = make_issue(org, assignee=team.dev)
    assert issue_get_for(actor=Actor.for_agent(team.peer), org=org, key=issue.key.lower()) == issue
    assert issue_get_for(actor=BOARD, org=org, key=issue.key) == issue
    with pytest.raises(NotFound):
        issue_get_for(actor=Actor.for_agent(team.outsider), org=org, key=issue.key)
    with pytest.raises(NotFound):
        issue_get_for(actor=BOARD, org=org, key="ACME-999")
    with pytest.raises(NotFound):
        require_org(Actor.for_agent(team.outsider), org.pk)
    require_org(Actor.for_agent(team.dev), org.pk)
