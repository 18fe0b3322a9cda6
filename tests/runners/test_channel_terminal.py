"""A channel message typed into the running terminal of an agent that takes messages there."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from agents.services import agent_update
from chat.models import Recipient
from chat.services import channel_create, message_post
from orgs.actors import Actor
from orgs.models import Event
from runners.base import RunContext
from runners.channel_terminal import channel_message_to_terminals
from runners.command import CommandRunner
from runners.models import Run
from runners.terminal_stream import send_input
from tests.factories import SYSTEM, make_agent, make_run
from tests.runners.test_executor import ListSink

pytestmark = pytest.mark.django_db(transaction=True)

HUMAN = Actor.human(label="ann")


def _wait(predicate: Any, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _pty_run(run: Run, tmp_path: Path, sink: ListSink) -> threading.Thread:
    """The run's process on a terminal: it echoes the first line typed after its prompt, then ends."""
    ctx = RunContext(
        run_id=run.pk,
        agent_slug=run.agent.slug,
        model="sh -c 'read prompt; echo ready; read line; echo got:$line'",
        prompt="the prompt",
        system_prompt="",
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        timeout_s=60,
        max_turns=1,
        extra={
            "kill_grace_s": 1,
            "mesa_sandbox": "host",
            "mesa_terminal": "pty",
            "terminal_dir": settings.MESA_TERMINALS_DIR,
            "terminal_cap": 1_000_000,
        },
    )
    thread = threading.Thread(target=lambda: CommandRunner().execute(ctx, sink), daemon=True)
    thread.start()
    return thread


def test_it_types_a_message_into_the_terminal_of_an_agent_that_takes_them(org: Any, tmp_path: Path) -> None:
    dev = make_agent(org, slug="dev")
    agent_update(actor=SYSTEM, agent=dev, terminal="pty_msgs")
    run = make_run(dev, status="running")
    sink = ListSink()
    thread = _pty_run(run, tmp_path, sink)
    assert _wait(lambda: "ready" in sink.texts)
    eng = channel_create(actor=HUMAN, org=org, name="eng")
    message = message_post(actor=HUMAN, channel=eng, body="@dev the release is\nblocked")
    event = Event.objects.filter(type="channel_message").latest("id")
    assert channel_message_to_terminals(event) == [run.pk]
    thread.join(30)
    assert "got:[message from ann in #eng] @dev the release is blocked" in sink.texts
    typed = [(e.data["by"], e.data["text"]) for e in sink.events if e.type == "terminal_input"]
    assert typed == [("channel #eng", "[message from ann in #eng] @dev the release is blocked\r")]
    recipient = Recipient.objects.get(message=message, agent=dev)
    assert recipient.delivered_at is not None and recipient.read_at is None  # not in the next prompt again


def test_it_leaves_the_terminal_of_an_agent_that_does_not_take_messages_alone(org: Any, tmp_path: Path) -> None:
    dev = make_agent(org, slug="dev")
    agent_update(actor=SYSTEM, agent=dev, terminal="pty")
    run = make_run(dev, status="running")
    sink = ListSink()
    thread = _pty_run(run, tmp_path, sink)
    assert _wait(lambda: "ready" in sink.texts)
    eng = channel_create(actor=HUMAN, org=org, name="eng")
    message = message_post(actor=HUMAN, channel=eng, body="@dev hello")
    assert channel_message_to_terminals(Event.objects.filter(type="channel_message").latest("id")) == []
    assert Recipient.objects.get(message=message, agent=dev).delivered_at is None  # the next prompt carries it
    # End the run's process by typing its line as a person would.
    assert send_input(Path(settings.MESA_TERMINALS_DIR), run.pk, "bye\r", by="ann")
    thread.join(30)
    assert "got:bye" in sink.texts
