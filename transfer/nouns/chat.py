"""Chat conversations: ``chat/<agent>.jsonl`` (a general one) and ``chat/<agent>--<KEY>.jsonl`` (about an issue).

Conversations match by (agent, issue), messages by (role, author, body) in order, as comments do.
Run ids are not carried: the runs stay behind.
"""

from __future__ import annotations

from collections import Counter

from chat.models import ChatMessage, Conversation
from orgs.models import Org
from transfer.nouns.common import parse_ts, read_jsonl, ts, write_jsonl
from transfer.registry import Bundle, ImportContext

NAME = "chat"
DIR = "chat/"


def export(org: Org, bundle: Bundle) -> None:
    conversations = Conversation.objects.filter(org=org).select_related("agent", "issue").order_by("id")
    for conversation in conversations:
        name = conversation.agent.slug + (f"--{conversation.issue.key}" if conversation.issue else "")
        write_jsonl(
            bundle,
            f"{DIR}{name}.jsonl",
            (
                {"role": m.role, "author": m.author_label, "created_at": ts(m.created_at), "body": m.body}
                for m in conversation.messages.order_by("id")
            ),
        )


def load(ctx: ImportContext) -> None:
    agents = ctx.refs.get("agents", {})
    issues_by_key = {i.key: i for i in ctx.refs.get("issues", {}).values()}
    for path in sorted(p for p in ctx.bundle if p.startswith(DIR) and p.endswith(".jsonl")):
        slug, _sep, key = path[len(DIR) : -len(".jsonl")].partition("--")
        agent, issue = agents.get(slug), issues_by_key.get(key) if key else None
        if agent is None or (key and issue is None):
            continue
        conversation, created = Conversation.objects.get_or_create(org=ctx.org, agent=agent, issue=issue)
        if created:
            ctx.change(f"create conversation {path[len(DIR) : -len('.jsonl')]}")
        present = Counter(conversation.messages.values_list("role", "author_label", "body"))
        added = 0
        for row in read_jsonl(ctx.bundle, path):
            signature = (row["role"], row.get("author", ""), row["body"])
            if present[signature]:
                present[signature] -= 1
                continue
            message = ChatMessage.objects.create(
                conversation=conversation, role=signature[0], author_label=signature[1], body=signature[2]
            )
            when = parse_ts(row.get("created_at"))
            if when is not None:
                ChatMessage.objects.filter(pk=message.pk).update(created_at=when)
            added += 1
        if added:
            ctx.change(f"add {added} chat message(s) to {path[len(DIR) : -len('.jsonl')]}")
