"""Channel messages and the agents they address: the wake-up (as a comment's @mention) and the next prompt."""

from __future__ import annotations

from typing import Any

import pytest

from chat.models import Recipient
from chat.services import channel_create, direct_open, message_post, messages_mark_delivered, messages_mark_read
from orgs.actors import Actor
from orgs.models import Event
from runners.dispatch import dispatch, pending_wakes, wakes_for_event
from runners.execution import execute_run
from runners.models import Run, RunStatus
from runners.prompt import prompt_build
from tests.factories import make_agent

pytestmark = pytest.mark.django_db

HUMAN = Actor.human(label="ann")


def last_wakes() -> list[tuple[int, int | None, str, bool]]:
    event = Event.objects.filter(type="channel_message").latest("id")
    return [(w.agent_id, w.issue_id, w.mode, w.mention) for w in wakes_for_event(event)]


def test_it_wakes_the_agents_a_channel_message_mentions_but_never_the_author(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    qa = make_agent(org, slug="qa")
    eng = channel_create(actor=HUMAN, org=org, name="eng")
    message_post(actor=HUMAN, channel=eng, body="@dev @qa standup in 5; mail@dev.com is not a mention")
    assert sorted(last_wakes()) == sorted([(dev.pk, None, "heartbeat", True), (qa.pk, None, "heartbeat", True)])
    message_post(actor=Actor.for_agent(dev), channel=eng, body="on it @dev")  # own mention: no self-wake
    assert last_wakes() == []
    message_post(actor=HUMAN, channel=eng, body="no one addressed")
    assert last_wakes() == []


def test_it_queues_a_run_while_the_message_is_unread_and_not_after(org: Any) -> None:
    dev = make_agent(org, slug="dev", runner="noop")
    other = make_agent(org, slug="other", runner="noop")
    thread = direct_open(actor=Actor.for_agent(other), org=org, agent=dev)
    message_post(actor=Actor.for_agent(other), channel=thread, body="can you look at the build?")
    event = Event.objects.filter(type="channel_message").latest("id")
    [wake] = wakes_for_event(event)
    assert wake.agent_id == dev.pk
    messages_mark_read(actor=Actor.for_agent(dev), channel=thread)
    assert dispatch(wake) is None  # read meanwhile: nothing to do
    Recipient.objects.filter(agent=dev).update(read_at=None)
    run = dispatch(wake)
    assert run is not None and run.agent_id == dev.pk and run.issue_id is None


def test_it_puts_unread_messages_in_the_next_prompt_once(org: Any) -> None:
    dev = make_agent(org, slug="dev", runner="noop")
    eng = channel_create(actor=HUMAN, org=org, name="eng")
    message = message_post(actor=HUMAN, channel=eng, body="@dev the release is friday")
    assert "#eng" in prompt_build(agent=dev, issue=None, mode="heartbeat").task  # a preview marks nothing
    run = Run.objects.create(org=org, agent=dev, status="running", mode="heartbeat")
    assert execute_run(run.pk) == RunStatus.COMPLETED
    run.refresh_from_db()
    assert "@dev the release is friday" in run.prompt and f"#eng #{message.pk} ann" in run.prompt
    assert Recipient.objects.get(agent=dev).delivered_at is not None
    assert "the release is friday" not in prompt_build(agent=dev, issue=None, mode="heartbeat").task


def test_it_wakes_an_agent_at_start_up_for_messages_no_prompt_has_carried(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    make_agent(org, slug="qa")
    eng = channel_create(actor=HUMAN, org=org, name="eng")
    message = message_post(actor=HUMAN, channel=eng, body="@dev are you there?")  # its event went by unseen
    channel_wakes = [(w.agent_id, w.mode) for w in pending_wakes() if w.reason == "channel messages wait for you"]
    assert channel_wakes == [(dev.pk, "heartbeat")]
    wake = next(w for w in pending_wakes(agent=dev) if w.reason == "channel messages wait for you")
    assert dispatch(wake) is not None  # a run is queued for it
    messages_mark_delivered(agent=dev, message_ids=[message.pk])
    assert not [w for w in pending_wakes(agent=dev) if w.reason == "channel messages wait for you"]
