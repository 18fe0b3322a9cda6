"""Archiving an agent (the existing ``terminated`` status) and restoring it, paused."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Agent, AgentStatus, AgentVersion
from agents.services import agent_archive, agent_restore
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden
from orgs.models import Activity
from orgs.services import membership_set
from runners.dispatch import Wake, dispatch
from runners.models import Run
from tests.factories import make_agent, make_issue, make_org, make_user

BOARD = Actor.human(label="board")


def test_it_archives_an_agent_so_it_is_never_dispatched_and_restores_it_paused(org: Any) -> None:
    worker = make_agent(org, slug="worker")
    issue = make_issue(org, assignee=worker)
    Run.objects.all().delete()
    agent_archive(actor=BOARD, agent=worker)
    assert Agent.objects.get(pk=worker.pk).status == AgentStatus.TERMINATED
    assert dispatch(Wake(worker.pk, issue.pk, "task", "archived")) is None
    assert not Run.objects.exists()
    assert AgentVersion.objects.filter(agent=worker, note="archived").exists()
    assert Activity.objects.filter(org=org, verb="updated", object_type="agent").exists()
    with pytest.raises(Conflict):
        agent_archive(actor=BOARD, agent=worker)

    agent_restore(actor=BOARD, agent=worker)
    assert Agent.objects.get(pk=worker.pk).status == AgentStatus.PAUSED
    with pytest.raises(Conflict):
        agent_restore(actor=BOARD, agent=worker)


def test_it_refuses_an_agent_of_another_org(org: Any) -> None:
    worker = make_agent(org, slug="worker")
    outsider = make_agent(make_org(slug="other", issue_prefix="OTH"), slug="spy")
    with pytest.raises(Forbidden):
        agent_archive(actor=Actor.for_agent(outsider), agent=worker)
    assert Agent.objects.get(pk=worker.pk).status == AgentStatus.ACTIVE


def test_it_archives_and_restores_from_the_agent_page(client: Any, org: Any) -> None:
    worker = make_agent(org, slug="worker", name="Worker Bee")
    assert 'data-testid="agent-archive"' in client.get("/agents/worker/").content.decode()
    client.post("/agents/worker/archive")
    assert Agent.objects.get(pk=worker.pk).status == AgentStatus.TERMINATED
    listing = client.get("/agents/").content.decode()
    assert 'id="agents-archived"' in listing and "/agents/worker/restore" in listing
    # Not offered in the quick-create assignee picker (every page's base.html).
    assert '<option value="worker">' not in _quick_create(client)
    assert '<option value="worker">' not in client.get("/issues/new").content.decode()
    client.post("/agents/worker/restore")
    assert Agent.objects.get(pk=worker.pk).status == AgentStatus.PAUSED
    assert '<option value="worker">' in _quick_create(client)


def _quick_create(client: Any) -> str:
    body = client.get("/").content.decode()
    return body[body.index('id="quick-create"') : body.index("</dialog>")]


def test_it_refuses_a_viewer(client: Any, org: Any, settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    worker = make_agent(org, slug="worker")
    viewer = make_user(username="vic")
    membership_set(actor=BOARD, org=org, user=viewer, role="viewer")
    client.force_login(viewer)
    assert client.post("/agents/worker/archive").status_code == 403
    assert Agent.objects.get(pk=worker.pk).status == AgentStatus.ACTIVE
