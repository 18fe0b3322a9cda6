"""The Telegram bot: approval messages with buttons, decisions by allowed users, commands.

``handle_update`` answers one update; polling for updates is ``notifications.telegram_poller``.

Every decision goes through ``approvals.services.approval_resolve``, exactly like
the browser and the API, with the actor ``telegram:<user id> (<name>)``.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Sum
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, User
from telegram import Message as TgMessage

from approvals.models import Approval, ApprovalStatus
from approvals.services import approval_resolve
from issues.models import OPEN_STATUSES, Issue
from notifications.messages import approval_url, is_public_url
from notifications.models import APPROVAL_RESOLVED_KIND, NotificationChannel, TelegramMessage
from notifications.telegram_client import TelegramClient
from orgs.actors import Actor
from orgs.errors import Conflict, MesaError
from orgs.models import Org
from runners.models import Run, RunStatus
from runners.services import scheduler_paused, scheduler_set_paused, scheduler_state_message
from runners.usage import day_start

if TYPE_CHECKING:
    from notifications.models import Delivery

log = logging.getLogger(__name__)

# At most 18 digits: a forged button with a longer number is unknown, not a database overflow.
CALLBACK_RE = re.compile(r"^mesa:(approve|reject):(\d{1,18})$")
NOT_ALLOWED = "You are not allowed to decide approvals in Mesa."
HELP = (
    "Mesa bot commands:\n/status – runs, open issues, today's cost, pending approvals\n"
    "/approvals – pending approvals with buttons\n/pause – pause the scheduler\n/resume – resume it\n"
    "Reply to an approval message with text to reject it with that reason."
)


# -- rendering -------------------------------------------------------------------------


def open_button(url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Open", url=url)]])


def approval_text(approval: Approval) -> str:
    lines = [f"Approval needed: {approval.title}", f"Kind: {approval.get_kind_display()}"]
    if approval.requested_by_label:
        lines.append(f"Asked by: {approval.requested_by_label}")
    if approval.issue_id and approval.issue is not None:
        lines.append(f"Issue: {approval.issue.key} {approval.issue.title}")
    if approval.reason:
        lines.append(f"Why: {approval.reason[:1500]}")
    url = approval_url(approval.pk)
    if not is_public_url(url):
        lines.append(url)  # Telegram refuses loopback URLs in buttons: show the link as text instead
    return "\n".join(lines)


def decision_line(approval: Approval) -> str:
    if approval.status == ApprovalStatus.APPROVED:
        line = f"✅ Approved by {approval.decided_by_label or 'someone'}"
    else:
        line = f"❌ Rejected by {approval.decided_by_label or 'someone'}"
    if approval.decision_comment:
        line += f": {approval.decision_comment[:1000]}"
    return line


def approval_markup(approval: Approval) -> InlineKeyboardMarkup | None:
    url = approval_url(approval.pk)
    rows: list[list[InlineKeyboardButton]] = []
    if approval.is_pending:
        rows.append(
            [
                InlineKeyboardButton("Approve", callback_data=f"mesa:approve:{approval.pk}"),
                InlineKeyboardButton("Reject", callback_data=f"mesa:reject:{approval.pk}"),
            ]
        )
    if is_public_url(url):
        rows.append([InlineKeyboardButton("Open", url=url)])
    return InlineKeyboardMarkup(rows) if rows else None


def approval_full_text(approval: Approval) -> str:
    text = approval_text(approval)
    if approval.is_pending:
        return text + "\n\nReply to this message with a reason to reject it."
    return f"{text}\n\n{decision_line(approval)}"


# -- sending and editing approval messages -------------------------------------------


def send_approval_message(
    *, client: TelegramClient, channel: NotificationChannel, approval: Approval, chat_id: int | str | None = None
) -> TelegramMessage:
    sent = client.send_message(
        chat_id=chat_id if chat_id is not None else channel.config["chat_id"],
        text=approval_full_text(approval)[:4096],
        reply_markup=approval_markup(approval),
    )
    return TelegramMessage.objects.create(
        channel=channel,
        approval=approval,
        chat_id=sent.chat.id,
        message_id=sent.message_id,
        text=sent.text or "",
        shown_status=approval.status,
    )


def show_decision(*, client: TelegramClient, approval: Approval, also: tuple[int, int] | None = None) -> int:
    """Edit every Telegram message of ``approval`` that does not show its current status yet.

    A message deleted in the chat is skipped (and not tried again): the others are still edited.
    """
    edited = 0
    seen: set[tuple[int, int]] = set()
    text = approval_full_text(approval)[:4096]
    for msg in TelegramMessage.objects.filter(approval=approval).exclude(shown_status=approval.status):
        exists = client.edit_message_text(
            chat_id=msg.chat_id, message_id=msg.message_id, text=text, reply_markup=approval_markup(approval)
        )
        TelegramMessage.objects.filter(pk=msg.pk).update(shown_status=approval.status, text=text)
        seen.add((msg.chat_id, msg.message_id))
        edited += exists
    if (
        also is not None
        and also not in seen
        and not TelegramMessage.objects.filter(
            chat_id=also[0], message_id=also[1], shown_status=approval.status
        ).exists()
    ):
        edited += client.edit_message_text(
            chat_id=also[0], message_id=also[1], text=text, reply_markup=approval_markup(approval)
        )
    return edited


def deliver_approval(*, client: TelegramClient, channel: NotificationChannel, delivery: Delivery) -> bool:
    """The Telegram transport's approval deliveries: send the message with buttons, or edit it after a decision."""
    approval = (
        Approval.objects.select_related("issue").filter(pk=delivery.payload.get("approval_id"), org=channel.org).first()
    )
    if approval is None:
        return False
    if delivery.kind == APPROVAL_RESOLVED_KIND:
        return show_decision(client=client, approval=approval) > 0
    send_approval_message(client=client, channel=channel, approval=approval)
    return True


def status_text(org: Org) -> str:
    start = day_start()
    running = Run.objects.filter(org=org, status=RunStatus.RUNNING).count()
    queued = Run.objects.filter(org=org, status=RunStatus.QUEUED).count()
    open_issues = Issue.objects.filter(org=org, status__in=OPEN_STATUSES, archived_at__isnull=True).count()
    cost = Run.objects.filter(org=org, created_at__gte=start).aggregate(c=Sum("cost_usd"))["c"] or Decimal(0)
    pending = Approval.objects.filter(org=org, status=ApprovalStatus.PENDING, reviewer__isnull=True).count()
    return (
        f"{org.name}\nScheduler: {'paused' if scheduler_paused() else 'running'}\n"
        f"Runs: {running} running, {queued} queued\nOpen issues: {open_issues}\n"
        f"Today's cost: ${cost:.2f}\nPending approvals: {pending}"
    )


# -- handling updates -------------------------------------------------------------------------


def telegram_actor(user: User) -> Actor:
    name = user.full_name or user.username or "?"
    return Actor.human(label=f"telegram:{user.id} ({name})"[:100])


def _allowed(channel: NotificationChannel, user: User | None) -> bool:
    return user is not None and user.id in {int(i) for i in channel.config.get("allowed_user_ids", [])}


def handle_update(*, channel: NotificationChannel, client: TelegramClient, update: Update) -> None:
    if update.callback_query is not None:
        _on_press(channel, client, update)
    elif update.message is not None and update.message.text:
        _on_message(channel, client, update.message)


def _on_press(channel: NotificationChannel, client: TelegramClient, update: Update) -> None:
    cq = update.callback_query
    assert cq is not None
    if not _allowed(channel, cq.from_user):
        client.answer_callback_query(callback_query_id=cq.id, text=NOT_ALLOWED, show_alert=True)
        return
    match = CALLBACK_RE.match(cq.data or "")
    if match is None:
        client.answer_callback_query(callback_query_id=cq.id, text="Unknown button.", show_alert=True)
        return
    approval = Approval.objects.select_related("issue").filter(pk=int(match.group(2)), org=channel.org).first()
    if approval is None:
        client.answer_callback_query(callback_query_id=cq.id, text="This approval no longer exists.", show_alert=True)
        return
    pressed = (cq.message.chat.id, cq.message.message_id) if cq.message is not None else None
    decision = ApprovalStatus.APPROVED if match.group(1) == "approve" else ApprovalStatus.REJECTED
    try:
        approval = approval_resolve(actor=telegram_actor(cq.from_user), approval=approval, decision=decision)
    except Conflict:
        approval.refresh_from_db()
        client.answer_callback_query(
            callback_query_id=cq.id,
            text=f"Already {approval.status} by {approval.decided_by_label or 'someone'}.",
            show_alert=True,
        )
        show_decision(client=client, approval=approval, also=pressed)
        return
    except MesaError as exc:
        client.answer_callback_query(callback_query_id=cq.id, text=exc.message, show_alert=True)
        return
    client.answer_callback_query(callback_query_id=cq.id, text=f"{approval.get_status_display().capitalize()}.")
    show_decision(client=client, approval=approval, also=pressed)


def _on_message(channel: NotificationChannel, client: TelegramClient, message: TgMessage) -> None:
    text = (message.text or "").strip()
    user = message.from_user
    if text.startswith("/"):
        _on_command(channel, client, message, text)
        return
    reply = message.reply_to_message
    if reply is None:
        return
    tm = (
        TelegramMessage.objects.select_related("approval")
        .filter(channel=channel, chat_id=message.chat.id, message_id=reply.message_id)
        .first()
    )
    if tm is None:
        return
    if not _allowed(channel, user):
        client.send_message(chat_id=message.chat.id, text=NOT_ALLOWED)
        return
    assert user is not None
    approval = tm.approval
    try:
        approval = approval_resolve(
            actor=telegram_actor(user), approval=approval, decision=ApprovalStatus.REJECTED, comment=text
        )
    except Conflict:
        approval.refresh_from_db()
        client.send_message(
            chat_id=message.chat.id,
            text=f"Already {approval.status} by {approval.decided_by_label or 'someone'}.",
        )
        return
    except MesaError as exc:
        client.send_message(chat_id=message.chat.id, text=exc.message)
        return
    show_decision(client=client, approval=approval)
    client.send_message(chat_id=message.chat.id, text=f"Rejected “{approval.title}” with your reason.")


def _on_command(channel: NotificationChannel, client: TelegramClient, message: TgMessage, text: str) -> None:
    command = text.split()[0][1:].split("@")[0].lower()
    chat_id = message.chat.id
    user = message.from_user
    if not _allowed(channel, user):
        who = f" Your Telegram user id is {user.id}." if user is not None else ""
        client.send_message(chat_id=chat_id, text=f"You are not allowed to use this bot.{who}")
        return
    assert user is not None
    org = Org.objects.get(pk=channel.org_id)
    if command in {"start", "help"}:
        client.send_message(chat_id=chat_id, text=HELP)
    elif command == "status":
        client.send_message(chat_id=chat_id, text=status_text(org))
    elif command == "approvals":
        pending = list(
            Approval.objects.select_related("issue")
            .filter(org=org, status=ApprovalStatus.PENDING, reviewer__isnull=True)
            .order_by("created_at")[:20]
        )
        if not pending:
            client.send_message(chat_id=chat_id, text="No pending approvals.")
        for approval in pending:
            send_approval_message(client=client, channel=channel, approval=approval, chat_id=chat_id)
    elif command in {"pause", "resume"}:
        try:
            reply = scheduler_state_message(scheduler_set_paused(actor=telegram_actor(user), paused=command == "pause"))
        except MesaError as exc:
            reply = exc.message
        client.send_message(chat_id=chat_id, text=reply)
    else:
        client.send_message(chat_id=chat_id, text=f"Unknown command /{command}.\n\n{HELP}")
