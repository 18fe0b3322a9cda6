"""Event → wake-up decisions: who must work now, on what, in which mode.

The scheduler reads the durable ``orgs.Event`` feed by id and passes each event to
:func:`wakes_for_event`:

* ``issue_created`` / ``issue_updated`` with a new assignee → the assignee (task mode);
* ``issue_updated`` into ``in_review`` → the reviewer (review mode): the assignee's
  ``review_agent``, else its manager (``reports_to``), else the CEO — never the author;
* ``issue_updated`` back to ``todo`` by someone else (changes requested) → the assignee;
* a human comment on an agent's issue → the assignee; ``@<agent-slug>`` in any comment →
  that agent;
* ``approval_resolved`` → the agent that asked (a resolved ``budget_raise`` re-dispatches
  the subject agent's pending work);
* ``backlog_updated`` (an item appended to the CEO's backlog) → the CEO (heartbeat mode);
* ``channel_message`` → every agent it is addressed to (``@<agent-slug>`` in a channel, the other
  side of a direct thread), in heartbeat mode, as an @mention in a comment wakes one.

An agent's own actions never wake itself. :func:`dispatch` then checks in the database
that there is work (an open issue, a review, an approval), that the issue has not hit
the retry cap and that the agent is within budget, and queues the run (deduplicated).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from agents.models import Agent, AgentStatus
from agents.selectors import ceos, is_ceo, org_ceo
from approvals.models import Approval, ApprovalKind, ApprovalStatus
from chat.models import ChatMessage, Conversation, Recipient
from chat.selectors import unread_for
from issues.models import TERMINAL_STATUSES, Comment, Issue, Status
from issues.selectors import review_q
from orgs.compiled import compiled_models
from orgs.events import EventType
from orgs.models import Event
from runners.backlog import backlog_read
from runners.block_ready import block_ready_for_event
from runners.budget import budget_block, budget_remaining
from runners.channel_terminal import channel_message_to_terminals
from runners.claims import events_before_gap
from runners.mentions import mentioned_agents
from runners.models import Run, RunMode, RunStatus, SchedulerState
from runners.readiness import agent_problem
from runners.services import retry_capped, run_enqueue
from runners.shipping import ship_for_event
from runners.wake import DISPATCH_TYPES

log = logging.getLogger(__name__)

WAKE_EVENT_TYPES = DISPATCH_TYPES


@dataclass(frozen=True)
class Wake:
    agent_id: int
    issue_id: int | None
    mode: str
    reason: str
    mention: bool = False  # woken by an @mention: the issue need not be its own
    automatic: bool = False  # recovery / follow-up / retry, not someone's action: subject to the retry cap
    conversation_id: int | None = None  # chat: the conversation to answer
    delay_s: float = 0  # a retry waits this long before it can start


def reviewer_for(issue: Issue) -> Agent | None:
    """Who reviews ``issue``: review_agent → manager → CEO, skipping the author and inactive agents."""
    author = issue.assignee
    candidates: list[Agent | None] = [author.review_agent, author.reports_to] if author is not None else []
    for agent in candidates:
        if agent is not None and agent.status != AgentStatus.TERMINATED:
            return agent
    ceo = org_ceo(issue.org_id)  # only looked up when the chain above is empty
    if ceo is None or (author is not None and ceo.pk == author.pk):
        return None
    return ceo


# The reads of every dispatched event, compiled once (orgs/compiled.py).
def _event_issues(org_id: int) -> QuerySet[Issue]:
    return Issue.objects.select_related("assignee__review_agent", "assignee__reports_to").filter(
        org_id=org_id, archived_at__isnull=True
    )


_issue_by_pk = compiled_models(lambda org_id, pk: _event_issues(org_id).filter(pk=pk))
_issue_by_key = compiled_models(lambda org_id, key: _event_issues(org_id).filter(key=key))
_agent_with_org = compiled_models(lambda pk: Agent.objects.select_related("org").filter(pk=pk))
_live_issue = compiled_models(lambda pk: Issue.objects.filter(pk=pk, archived_at__isnull=True))


def _issue(data: dict[str, object], org_id: int, *, id_key: str, key_key: str) -> Issue | None:
    """The issue an event is about, in the event's org: ``data[id_key]`` (its pk), else ``data[key_key]``.

    Each event type names its own field: an issue event's ``id`` is the issue, a comment event's ``id``
    is the comment (its issue is ``issue_id``).
    """
    issue_id = data.get(id_key)
    if isinstance(issue_id, int) and not isinstance(issue_id, bool):
        found: Issue | None = _issue_by_pk.first(org_id, issue_id)
        return found
    key = data.get(key_key)
    if isinstance(key, str):
        by_key: Issue | None = _issue_by_key.first(org_id, key)
        return by_key
    return None


def wakes_for_event(event: Event) -> list[Wake]:
    """The wake-ups an event asks for (not yet checked for work or budget)."""
    data = event.data or {}
    actor_agent_id = data.get("actor_agent_id")
    wakes: list[Wake] = []
    if event.type in (EventType.ISSUE_CREATED, EventType.ISSUE_UPDATED):
        issue = _issue(data, event.org_id, id_key="id", key_key="key")
        if issue is None or issue.is_terminal:
            return []
        changes = data.get("changes") or []
        created = event.type == EventType.ISSUE_CREATED
        if issue.assignee_id and (created or "assignee" in changes) and data.get("assignee_id") == issue.assignee_id:
            wakes.append(Wake(issue.assignee_id, issue.pk, RunMode.TASK, f"{issue.key} was assigned to you"))
        if "status" in changes and data.get("status") == issue.status:
            if issue.status == Status.IN_REVIEW:
                reviewer = reviewer_for(issue)
                if reviewer is not None:
                    wakes.append(Wake(reviewer.pk, issue.pk, RunMode.REVIEW, f"{issue.key} is ready for your review"))
            elif issue.status == Status.TODO and issue.assignee_id and data.get("from_status") == Status.IN_REVIEW:
                wakes.append(Wake(issue.assignee_id, issue.pk, RunMode.TASK, f"changes were requested on {issue.key}"))
    elif event.type == EventType.COMMENT_CREATED:
        if data.get("kind") == "system":
            return []
        issue = _issue(data, event.org_id, id_key="issue_id", key_key="issue_key")
        if issue is None or issue.is_terminal:
            return []
        if data.get("actor_kind") == "human" and issue.assignee_id:
            wakes.append(Wake(issue.assignee_id, issue.pk, RunMode.TASK, f"a human commented on {issue.key}"))
        comment_id = data.get("id")
        body = ""
        if isinstance(comment_id, int):
            body = Comment.objects.filter(pk=comment_id).values_list("body", flat=True).first() or ""
        for agent_id, slug in mentioned_agents(org_id=event.org_id, body=body or str(data.get("body", ""))):
            mode = RunMode.REVIEW if issue.status == Status.IN_REVIEW and agent_id != issue.assignee_id else "task"
            wakes.append(Wake(agent_id, issue.pk, mode, f"@{slug} was mentioned on {issue.key}", mention=True))
    elif event.type == EventType.APPROVAL_RESOLVED:
        approval_id = data.get("id")
        approval = Approval.objects.filter(pk=approval_id).first() if isinstance(approval_id, int) else None
        if approval is None:
            return []
        if approval.requested_by_agent_id:
            reason = f'your approval request "{approval.title}" was {approval.status}'
            mode = RunMode.TASK if approval.issue_id else RunMode.HEARTBEAT
            wakes.append(Wake(approval.requested_by_agent_id, approval.issue_id, mode, reason))
        if approval.kind == ApprovalKind.BUDGET_RAISE and approval.subject_agent_id and approval.status == "approved":
            subject = Agent.objects.filter(pk=approval.subject_agent_id).first()
            if subject is not None:
                wakes += pending_wakes(agent=subject)
    elif event.type == EventType.CHANNEL_MESSAGE:
        recipient_ids = [pk for pk in data.get("recipient_ids") or [] if isinstance(pk, int)]
        where = f"#{data.get('channel')}" if data.get("kind") == "named" else "a direct thread"
        for agent_id, slug in Agent.objects.filter(org_id=event.org_id, pk__in=recipient_ids).values_list("id", "slug"):
            reason = f"@{slug} got a message from {data.get('author') or 'someone'} in {where}"
            wakes.append(Wake(agent_id, None, RunMode.HEARTBEAT, reason, mention=True))
    elif event.type == EventType.CHAT_MESSAGE:
        chat_agent, chat_id = data.get("agent_id"), data.get("conversation_id")
        if data.get("role") == "human" and isinstance(chat_agent, int) and isinstance(chat_id, int):
            wakes.append(Wake(chat_agent, None, RunMode.CHAT, "a human wrote to you in chat", conversation_id=chat_id))
    elif event.type == EventType.BACKLOG_UPDATED:
        ceo_id = data.get("ceo_id")
        if isinstance(ceo_id, int):
            wakes.append(Wake(ceo_id, None, RunMode.HEARTBEAT, "a human added to the backlog"))
    # Own actions never wake the actor; one wake per agent and issue.
    out: list[Wake] = []
    seen: set[tuple[int, int | None]] = set()
    for wake in wakes:
        if actor_agent_id is not None and wake.agent_id == actor_agent_id:
            continue
        if (wake.agent_id, wake.issue_id) in seen:
            continue
        seen.add((wake.agent_id, wake.issue_id))
        out.append(wake)
    return out


def has_work(wake: Wake, agent: Agent, issue: Issue | None) -> bool:
    """True when the database says there is something for the agent to do."""
    if wake.mode == RunMode.CHAT:
        return wake.conversation_id is not None
    if wake.mode == RunMode.REVIEW:
        return issue is not None and issue.status == Status.IN_REVIEW and issue.assignee_id != agent.pk
    if issue is not None:
        if issue.status in TERMINAL_STATUSES:
            return False
        if wake.mention:
            return True
        return issue.assignee_id == agent.pk and issue.status != Status.BOARD_REVIEW
    if wake.mention:  # addressed in a channel: work while the message is still unread
        return unread_for(agent).exists()
    return agent_has_work(agent)


def agent_has_work(agent: Agent) -> bool:
    """Anything at all for a heartbeat: an open issue, a review, a pending approval addressed to it."""

    mine = Issue.objects.filter(
        assignee=agent, status__in=(Status.TODO, Status.IN_PROGRESS), archived_at__isnull=True
    ).exists()
    if mine:
        return True
    if Approval.objects.filter(reviewer=agent, status=ApprovalStatus.PENDING).exists():
        return True
    if is_ceo(agent) and backlog_read(agent).strip():
        return True
    return Issue.objects.filter(review_q(agent), org_id=agent.org_id, archived_at__isnull=True).exists()


def dispatch(wake: Wake) -> Run | None:
    """Queue the run a wake-up asks for, after the work, retry-cap and budget checks; None when not queued."""
    agent: Agent | None = _agent_with_org.first(wake.agent_id)
    if agent is None or agent.status == AgentStatus.TERMINATED:
        return None
    problem = agent_problem(agent)
    if problem:
        # "Needs setup" (its CLI is missing): a run would fail at once; the dashboard says what to do.
        log.info("not waking %s: %s", agent.slug, problem)
        return None
    # An archived issue is not worked on until it is restored (issues.archive).
    issue: Issue | None = _live_issue.first(wake.issue_id) if wake.issue_id else None
    if wake.issue_id and issue is None:
        return None
    if not has_work(wake, agent, issue):
        return None
    if issue is not None and wake.automatic and retry_capped(issue):
        return None
    remaining = budget_remaining(agent)
    if remaining.exhausted:
        budget_block(agent=agent, issue=issue, remaining=remaining)
        return None
    mode = wake.mode if issue is not None or wake.mode == RunMode.CHAT else RunMode.HEARTBEAT
    not_before = timezone.now() + timedelta(seconds=wake.delay_s) if wake.delay_s > 0 else None
    return run_enqueue(
        agent=agent,
        issue=issue,
        mode=mode,
        reason=wake.reason,
        not_before=not_before,
        conversation_id=wake.conversation_id if mode == RunMode.CHAT else None,
    ).run


def dispatch_events(after_id: int, *, limit: int = 1000) -> tuple[int, list[Run]]:
    """Handle the events after ``after_id``; returns the last id seen and the runs queued.

    The cursor moves past every event (run events included), so the next poll starts where
    this one ended. SQLite commits in id order (one writer at a time); on Postgres a
    sequence can commit out of order, which the heartbeat and start-up recovery cover.
    """
    rows = list(Event.objects.filter(id__gt=after_id).order_by("id").values_list("id", "type")[:limit])
    if not rows:
        return after_id, []
    return rows[-1][0], _handle([pk for pk, type_ in rows if type_ in WAKE_EVENT_TYPES])


def dispatch_claimed_events(*, limit: int = 1000) -> tuple[int, list[Run]]:
    """Claim the events after the shared cursor, then handle them; returns the cursor and the runs queued.

    The claim is a conditional update of ``SchedulerState.event_cursor``: of several schedulers on
    one database, exactly one takes each batch, so an event never wakes an agent twice. One that
    loses the race handles nothing this time and reads the new cursor on its next pass. On PostgreSQL
    the cursor never passes an event still being committed (``runners.claims.events_before_gap``).
    """
    cursor = SchedulerState.objects.filter(pk=1).values_list("event_cursor", flat=True).first()
    if cursor is None:
        SchedulerState.objects.get_or_create(pk=1)
        cursor = 0
    rows = events_before_gap(
        list(Event.objects.filter(id__gt=cursor).order_by("id").values_list("id", "type", "created_at")[:limit]),
        cursor,
    )
    if not rows:
        return cursor, []
    last = rows[-1][0]
    if not SchedulerState.objects.filter(pk=1, event_cursor=cursor).update(event_cursor=last):
        return cursor, []  # another scheduler took these events
    return last, _handle([pk for pk, type_, _ in rows if type_ in WAKE_EVENT_TYPES])


def dispatch_cursor_start(*, idle_after: timedelta) -> int:
    """At a scheduler's start: the shared cursor, moved to the newest event if no scheduler is alive.

    With none alive (no beat within ``idle_after``), the events since the last claim are not
    replayed one by one: start-up recovery re-dispatches the pending work instead. With one alive,
    the cursor stays where it is, so no event it has not taken yet is skipped.
    """
    SchedulerState.objects.get_or_create(pk=1)
    head = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    stale = Q(beat_at__isnull=True) | Q(beat_at__lt=timezone.now() - idle_after)
    SchedulerState.objects.filter(stale, pk=1, event_cursor__lt=head).update(event_cursor=head)
    return int(SchedulerState.objects.values_list("event_cursor", flat=True).get(pk=1))


def _handle(wanted: list[int]) -> list[Run]:
    runs: list[Run] = []
    for event in Event.objects.filter(pk__in=wanted).order_by("id") if wanted else []:
        try:
            for wake in wakes_for_event(event):
                run = dispatch(wake)
                if run is not None:
                    runs.append(run)
        except Exception:  # one bad event must not stop the feed
            log.exception("dispatch failed for event %s (%s)", event.pk, event.type)
        try:
            ship_for_event(event)  # an issue that reached done ships its branch
        except Exception:
            log.exception("shipping failed for event %s", event.pk)
        try:
            block_ready_for_event(event)  # the last open issue of the active work block finished
        except Exception:
            log.exception("work block auto-ready failed for event %s", event.pk)
        try:
            channel_message_to_terminals(event)  # agents that take messages in their running terminal
        except Exception:
            log.exception("typing a channel message into a terminal failed for event %s", event.pk)
    return runs


def _with_last_run(issues: QuerySet[Issue]) -> QuerySet[Issue]:
    """``issues`` with their latest run (agent, status, end) and latest comment time, in the same query."""
    latest = Run.objects.filter(issue=OuterRef("pk")).order_by("-created_at", "-id")
    return issues.annotate(
        last_run_agent=Subquery(latest.values("agent_id")[:1]),
        last_run_status=Subquery(latest.values("status")[:1]),
        last_run_finished=Subquery(latest.values("finished_at")[:1]),
        last_comment_at=Subquery(
            Comment.objects.filter(issue=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
        ),
    )


def _settled(issue: Issue, agent_id: int) -> bool:
    """True when the latest run on ``issue`` is ``agent_id``'s, completed after the issue last changed.

    Such work is not due again: the agent saw the issue as it is now (no edit, no comment and no
    one else's run since), and running it again would only spend tokens. Interrupted runs are
    ``recover()``'s; failed ones are retried under the retry cap. Needs :func:`_with_last_run`.
    """
    finished = getattr(issue, "last_run_finished", None)
    if (
        getattr(issue, "last_run_agent", None) != agent_id
        or getattr(issue, "last_run_status", None) != RunStatus.COMPLETED
    ):
        return False
    changed = max(issue.updated_at, getattr(issue, "last_comment_at", None) or issue.updated_at)
    return finished is not None and finished >= changed


def pending_wakes(*, agent: Agent | None = None, org_id: int | None = None) -> list[Wake]:
    """Work waiting in the database (recovery and budget raises): open assigned issues, reviews, and
    a CEO's backlog items (whose ``backlog_updated`` event may have gone by while no scheduler ran).

    An issue whose agent's latest run completed after the issue last changed (no edit, no comment
    since) is not pending: a restart must not spend a run on every issue in progress."""
    q = Q(status__in=(Status.TODO, Status.IN_PROGRESS), assignee__isnull=False, archived_at__isnull=True)
    if agent is not None:
        q &= Q(assignee=agent)
    if org_id is not None:
        q &= Q(org_id=org_id)
    wakes = [
        Wake(i.assignee_id, i.pk, RunMode.TASK, f"pending work on {i.key}", automatic=True)
        for i in _with_last_run(Issue.objects.filter(q)).order_by("-priority", "id")
        if i.assignee_id is not None and not _settled(i, i.assignee_id)
    ]
    reviews = _with_last_run(Issue.objects.filter(status=Status.IN_REVIEW, archived_at__isnull=True)).select_related(
        "assignee__review_agent", "assignee__reports_to"
    )
    if org_id is not None:
        reviews = reviews.filter(org_id=org_id)
    for issue in reviews:
        reviewer = reviewer_for(issue)
        if reviewer is not None and (agent is None or reviewer.pk == agent.pk):
            if _settled(issue, reviewer.pk):
                continue
            wakes.append(
                Wake(reviewer.pk, issue.pk, RunMode.REVIEW, f"{issue.key} is waiting for your review", automatic=True)
            )
    chiefs = ceos()
    if agent is not None:
        chiefs = chiefs.filter(pk=agent.pk)
    if org_id is not None:
        chiefs = chiefs.filter(org_id=org_id)
    for ceo in chiefs:
        if backlog_read(ceo).strip():
            wakes.append(Wake(ceo.pk, None, RunMode.HEARTBEAT, "items wait in the backlog", automatic=True))
    # Conversations whose last word is a human's: the message may have arrived while no scheduler ran.
    last_role = ChatMessage.objects.filter(conversation=OuterRef("pk")).order_by("-id").values("role")[:1]
    unanswered = Conversation.objects.annotate(last_role=Subquery(last_role)).filter(last_role="human")
    if agent is not None:
        unanswered = unanswered.filter(agent=agent)
    if org_id is not None:
        unanswered = unanswered.filter(org_id=org_id)
    for conversation in unanswered.order_by("id"):
        wakes.append(
            Wake(
                conversation.agent_id,
                None,
                RunMode.CHAT,
                "a chat message waits for your answer",
                automatic=True,
                conversation_id=conversation.pk,
            )
        )
    # Channel messages addressed to an agent that no prompt has carried yet (their event may have gone by).
    waiting = Recipient.objects.filter(
        delivered_at__isnull=True, read_at__isnull=True, agent__status=AgentStatus.ACTIVE
    )
    if agent is not None:
        waiting = waiting.filter(agent=agent)
    if org_id is not None:
        waiting = waiting.filter(agent__org_id=org_id)
    for agent_id in waiting.order_by("agent_id").values_list("agent_id", flat=True).distinct():
        wakes.append(Wake(agent_id, None, RunMode.HEARTBEAT, "channel messages wait for you", mention=True))
    return wakes
