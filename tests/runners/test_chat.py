from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chat.conversations import chat_post, conversation_open
from chat.models import ChatMessage
from orgs.actors import Actor
from runners.dispatch import dispatch_events, pending_wakes
from runners.execution import execute_run
from runners.models import Run, RunMode, RunStatus
from tests.factories import make_agent, make_ceo, make_issue, make_run

pytestmark = pytest.mark.django_db(transaction=True)
HUMAN = Actor.human(label="alice")


def test_it_wakes_the_agent_with_the_conversation_and_posts_its_reply(org: Any) -> None:
    ceo = make_ceo(org, runner="dry_run")
    conversation = conversation_open(actor=HUMAN, agent=ceo)
    chat_post(actor=HUMAN, conversation=conversation, body="First question about pricing?")
    dispatch_events(0)
    run = Run.objects.get(agent=ceo)
    assert run.mode == RunMode.CHAT and run.conversation_id == conversation.pk and run.issue_id is None
    assert execute_run(run.pk) == RunStatus.COMPLETED
    reply = ChatMessage.objects.filter(conversation=conversation, role="agent").get()
    assert reply.body == "dry run reply to: HUMAN (alice): First question about pricing?" and reply.run_id == run.pk

    chat_post(actor=HUMAN, conversation=conversation, body="And a second one.")
    last, _runs = dispatch_events(0)
    second = Run.objects.filter(agent=ceo).exclude(pk=run.pk).get()
    assert execute_run(second.pk) == RunStatus.COMPLETED
    second.refresh_from_db()
    # The prompt carries the conversation so far, oldest first.
    prompt = second.prompt
    assert prompt.index("First question about pricing?") < prompt.index("dry run reply to:") < prompt.index("second")
    assert "CHAT." in prompt


def test_it_puts_the_issue_in_the_prompt_of_a_chat_about_it(org: Any) -> None:
    dev = make_agent(org, slug="dev", runner="dry_run")
    issue = make_issue(org, title="Checkout is slow", description="p95 is 4 s.")
    conversation = conversation_open(actor=HUMAN, agent=dev, issue=issue)
    chat_post(actor=HUMAN, conversation=conversation, body="What do you think?")
    dispatch_events(0)
    run = Run.objects.get(agent=dev, mode=RunMode.CHAT)
    execute_run(run.pk)
    run.refresh_from_db()
    assert "Checkout is slow" in run.prompt and "p95 is 4 s." in run.prompt


def test_it_does_not_answer_over_budget(org: Any) -> None:
    ceo = make_ceo(org, runner="dry_run", daily_cost_limit_usd=Decimal("1.00"))
    make_run(ceo, status="completed", cost_usd=Decimal("2.00"))
    conversation = conversation_open(actor=HUMAN, agent=ceo)
    chat_post(actor=HUMAN, conversation=conversation, body="Hello?")
    dispatch_events(0)
    assert not Run.objects.filter(agent=ceo, mode=RunMode.CHAT).exists()


def test_it_answers_a_message_that_arrived_while_no_scheduler_ran(org: Any) -> None:
    ceo = make_ceo(org, runner="dry_run")
    conversation = conversation_open(actor=HUMAN, agent=ceo)
    chat_post(actor=HUMAN, conversation=conversation, body="Anyone there?")
    wakes = [w for w in pending_wakes() if w.mode == RunMode.CHAT]
    assert [(w.agent_id, w.conversation_id) for w in wakes] == [(ceo.pk, conversation.pk)]
    dispatch_events(0)
    execute_run(Run.objects.get(agent=ceo).pk)
    assert [w for w in pending_wakes() if w.mode == RunMode.CHAT] == []  # answered
