"""Chat with an agent: a conversation page per agent (optionally about one issue), live through the SSE feed.

A human message wakes the agent (``chat.conversations.chat_post`` → the scheduler's dispatch → a ``chat`` run);
its reply arrives as a ``chat_message`` event and the message list re-renders. Any message can become an
issue or a CEO backlog item in one click.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from agents.models import Agent, AgentStatus
from agents.selectors import is_ceo
from chat.conversations import chat_post, conversation_open
from chat.models import ChatMessage, Conversation
from issues.models import Issue
from issues.selectors import issue_get_for
from issues.services import issue_create
from orgs.errors import MesaError
from orgs.models import Org
from runners.backlog import backlog_append
from web.access import HtmxHttpRequest, fail, human_actor, require_org

TITLE_MAX = 120


def _agent(org: Org, slug: str) -> Agent:
    agent = Agent.objects.filter(org=org, slug=slug).exclude(status=AgentStatus.TERMINATED).first()
    if agent is None:
        raise Http404("No such agent.")
    return agent


def _issue(request: HtmxHttpRequest, org: Org) -> Issue | None:
    key = request.GET.get("issue") or request.POST.get("issue") or ""
    return issue_get_for(actor=human_actor(request), org=org, key=key) if key else None


def _url(agent: Agent, issue: Issue | None) -> str:
    url = reverse("web:chat_agent", args=[agent.slug])
    return f"{url}?issue={issue.key}" if issue is not None else url


def _messages(conversation: Conversation | None) -> list[ChatMessage]:
    return list(conversation.messages.order_by("id")) if conversation is not None else []


def chat_home(request: HtmxHttpRequest) -> HttpResponse:
    """``/chat/``: the CEO's conversation first (else the first agent)."""
    org = require_org(request)
    agents = sorted(Agent.objects.filter(org=org, status=AgentStatus.ACTIVE), key=lambda a: (not is_ceo(a), a.name))
    if not agents:
        raise Http404("No agents to chat with yet.")
    return HttpResponseRedirect(reverse("web:chat_agent", args=[agents[0].slug]))


@require_http_methods(["GET", "POST"])
def chat_agent(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    org = require_org(request)
    agent = _agent(org, slug)
    issue = _issue(request, org)
    conversation = Conversation.objects.filter(agent=agent, issue=issue).first()
    error: MesaError | None = None
    if request.method == "POST":
        try:
            conversation = conversation_open(actor=human_actor(request), agent=agent, issue=issue)
            chat_post(actor=human_actor(request), conversation=conversation, body=request.POST.get("body", ""))
        except MesaError as exc:
            error = exc
        if not request.htmx and error is None:
            return HttpResponseRedirect(_url(agent, issue))
    ctx: dict[str, Any] = {
        "agent": agent,
        "issue": issue,
        "conversation": conversation,
        "chat_messages": _messages(conversation),
        "error": error,
        "self_url": _url(agent, issue),
    }
    status = error.status if error else 200
    if request.htmx and request.htmx.target in ("chat-messages", "chat-form"):
        return render(request, "chat/partials/conversation_messages.html", ctx, status=status)
    agents = sorted(Agent.objects.filter(org=org, status=AgentStatus.ACTIVE), key=lambda a: (not is_ceo(a), a.name))
    return render(request, "chat/chat.html", {**ctx, "agents": agents}, status=status)


def _message(org: Org, pk: int) -> ChatMessage:
    found = ChatMessage.objects.select_related("conversation__agent", "conversation__issue").filter(
        pk=pk, conversation__org=org
    )
    message = found.first()
    if message is None:
        raise Http404("No such message.")
    return message


@require_POST
def message_to_issue(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One click: the message becomes an issue (first line as the title, the message as the description)."""
    org = require_org(request)
    message = _message(org, pk)
    conversation = message.conversation
    back = _url(conversation.agent, conversation.issue)
    first = next((line.strip(" #*-") for line in message.body.splitlines() if line.strip(" #*-")), "From chat")
    title = first if len(first) <= TITLE_MAX else first[: TITLE_MAX - 1] + "…"
    try:
        issue = issue_create(
            actor=human_actor(request),
            org=org,
            title=title,
            description=f"{message.body}\n\n_From a chat with {conversation.agent.slug}._",
            parent=conversation.issue,
        )
    except MesaError as exc:
        return fail(request, exc, back=back)
    messages.success(request, f"Created {issue.key}.")
    return HttpResponseRedirect(reverse("issues:detail", args=[issue.key]))


@require_POST
def message_to_backlog(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One click: the message goes to the CEO's backlog (the CEO turns it into issues)."""
    org = require_org(request)
    message = _message(org, pk)
    back = _url(message.conversation.agent, message.conversation.issue)
    try:
        backlog_append(actor=human_actor(request), org=org, text=message.body)
    except MesaError as exc:
        return fail(request, exc, back=back)
    messages.success(request, "Added to the CEO's backlog.")
    return HttpResponseRedirect(back)
