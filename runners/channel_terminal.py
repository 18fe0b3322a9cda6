"""Channel messages typed into a running agent's terminal.

An agent whose ``terminal`` is ``pty_msgs`` gets each channel message addressed to it typed into the
terminal of its running runs (as a line of its own, then Enter), recorded like any typed input with
who sent it. A message typed in is marked delivered, so the agent's next prompt does not repeat it;
it stays unread until the agent marks it read. Runs on another machine are not reached (their input
FIFO is local to the scheduler that runs them).
"""

from __future__ import annotations

from agents.models import Agent, Terminal
from chat.models import Message
from chat.services import messages_mark_delivered
from orgs.events import EventType
from orgs.models import Event
from runners.models import Run, RunStatus
from runners.terminal_stream import send_input, terminals_dir

LINE_MAX = 2_000


def channel_message_to_terminals(event: Event) -> list[int]:
    """Type the message of a ``channel_message`` event into its recipients' running PTY runs; the run ids."""
    if event.type != EventType.CHANNEL_MESSAGE:
        return []
    data = event.data or {}
    recipient_ids = [pk for pk in data.get("recipient_ids") or [] if isinstance(pk, int)]
    agents = list(Agent.objects.filter(org_id=event.org_id, pk__in=recipient_ids, terminal=Terminal.PTY_MESSAGES))
    message_id = data.get("id")
    if not isinstance(message_id, int):
        return []
    message = Message.objects.filter(pk=message_id, org_id=event.org_id).select_related("channel").first()
    if not agents or message is None:
        return []
    where = f"#{message.channel.name}" if data.get("kind") == "named" else "a direct thread"
    body = " ".join(message.body.split())[:LINE_MAX]
    line = f"[message from {message.author_label or 'someone'} in {where}] {body}\r"
    typed: list[int] = []
    for agent in agents:
        runs = Run.objects.filter(agent=agent, status=RunStatus.RUNNING).values_list("id", flat=True)
        reached = [run_id for run_id in runs if send_input(terminals_dir(), run_id, line, by=f"channel {where}")]
        if reached:
            messages_mark_delivered(agent=agent, message_ids=[message.pk])
            typed += reached
    return typed
