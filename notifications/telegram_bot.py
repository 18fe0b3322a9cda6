"""The Telegram bot: approval messages with buttons, decisions by allowed users, commands.

Long polling is driven by ``Poller.poll_channel`` — one ``getUpdates`` cycle per
call, so tests run it deterministically with ``poll_once()``. ``run_forever`` loops
over every enabled Telegram channel, re-reading the settings each cycle, so the
bot starts and stops with the setting without a restart. The scheduler process
starts it with ``start_in_thread()``; ``python manage.py telegram`` runs it alone.

Every decision goes through ``approvals.services.approval_resolve``, exactly like
the browser and the API, with the actor ``telegram:<user id> (<name>)``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Sum
from django.utils import timezone
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, User
from telegram import Message as TgMessage

from approvals.models import Approval, ApprovalStatus
from approvals.services import approval_resolve
from issues.models import OPEN_STATUSES, Issue
from notifications.messages import approval_url, is_public_url
from notifications.models import APPROVAL_RESOLVED_KIND, ChannelKind, NotificationChannel, TelegramMessage
from notifications.services import channel_error_set, channel_ok
from notifications.telegram_client import DEFAULT_BASE_URL, TelegramCallError, TelegramClient
from orgs.actors import Actor
from orgs.errors import Conflict, MesaError
from orgs.models import Org
from runners.models import Run, RunStatus
from runners.services import scheduler_paused, scheduler_set_paused, scheduler_state_message
from runners.usage import day_start

if TYPE_CHECKING:
    from notifications.models import Delivery

log = logging.getLogger(__name__)

CALLBACK_RE = re.compile(r"^mesa:(approve|reject):(\d+)$")
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
    """Edit every Telegram message of ``approval`` that does not show its current status yet."""
    edited = 0
    seen: set[tuple[int, int]] = set()
    text = approval_full_text(approval)[:4096]
    for msg in TelegramMessage.objects.filter(approval=approval).exclude(shown_status=approval.status):
        client.edit_message_text(
            chat_id=msg.chat_id, message_id=msg.message_id, text=text, reply_markup=approval_markup(approval)
        )
        TelegramMessage.objects.filter(pk=msg.pk).update(shown_status=approval.status, text=text)
        seen.add((msg.chat_id, msg.message_id))
        edited += 1
    if (
        also is not None
        and also not in seen
        and not TelegramMessage.objects.filter(
            chat_id=also[0], message_id=also[1], shown_status=approval.status
        ).exists()
    ):
        client.edit_message_text(chat_id=also[0], message_id=also[1], text=text, reply_markup=approval_markup(approval))
        edited += 1
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
    open_issues = Issue.objects.filter(org=org, status__in=OPEN_STATUSES).count()
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


# -- polling ------------------------------------------------------------------------------


class Poller:
    """Holds one TelegramClient per channel (rebuilt when its token or base URL changes)."""

    def __init__(self) -> None:
        self._clients: dict[int, tuple[tuple[str, str], TelegramClient]] = {}
        # Channels whose token Telegram refused, with the credentials refused: skipped until they change.
        self._refused: dict[int, tuple[str, str]] = {}
        # Channels whose last cycle failed (network, refused token): the loop backs off for them.
        self.failed: set[int] = set()
        self._poll_errors: set[int] = set()

    @staticmethod
    def _key(channel: NotificationChannel) -> tuple[str, str]:
        return channel.secret, channel.config.get("base_url") or DEFAULT_BASE_URL

    def client_for(self, channel: NotificationChannel, *, read_timeout: float = 10.0) -> TelegramClient:
        key = self._key(channel)
        cached = self._clients.get(channel.pk)
        if cached is not None and cached[0] == key:
            return cached[1]
        if cached is not None:
            cached[1].close()
        client = TelegramClient(key[0], key[1], read_timeout=read_timeout)
        self._clients[channel.pk] = (key, client)
        return client

    def poll_channel(self, channel: NotificationChannel, *, timeout: int = 0) -> int:
        """One getUpdates cycle for one channel; returns how many updates were handled."""
        if self._refused.get(channel.pk) == self._key(channel):
            self.failed.add(channel.pk)
            return 0
        self.failed.discard(channel.pk)
        client = self.client_for(channel)
        try:
            if not channel.bot_username:
                me = client.get_me()
                channel.bot_username = me.username or ""
                NotificationChannel.objects.filter(pk=channel.pk).update(bot_username=channel.bot_username)
                channel_ok(channel)
            updates = client.get_updates(offset=channel.poll_offset, timeout=timeout)
            if channel.pk in self._poll_errors:
                # Polling works again: clear the error polling had stored (not a delivery's).
                self._poll_errors.discard(channel.pk)
                channel_ok(channel)
        except TelegramCallError as exc:
            self._poll_errors.add(channel.pk)
            channel_error_set(channel, exc.message)
            self.failed.add(channel.pk)
            if exc.unauthorized:
                self._refused[channel.pk] = self._key(channel)
            log.warning("telegram channel %s: %s", channel.pk, exc.message)
            return 0
        for update in updates:
            try:
                handle_update(channel=channel, client=client, update=update)
            except TelegramCallError as exc:
                log.warning("telegram channel %s: answering update %s failed: %s", channel.pk, update.update_id, exc)
            except Exception:  # one bad update must not block the ones after it
                log.exception("telegram channel %s: update %s failed", channel.pk, update.update_id)
            channel.poll_offset = update.update_id + 1
            NotificationChannel.objects.filter(pk=channel.pk).update(poll_offset=channel.poll_offset)
        return len(updates)

    def poll_once(self, *, timeout: int = 0, channel: NotificationChannel | None = None) -> int:
        channels = [channel] if channel is not None else list(enabled_bot_channels())
        return sum(self.poll_channel(ch, timeout=timeout) for ch in channels)

    def close(self) -> None:
        for _, client in self._clients.values():
            client.close()
        self._clients.clear()


def enabled_bot_channels() -> Any:
    return NotificationChannel.objects.filter(kind=ChannelKind.TELEGRAM, enabled=True).select_related("org")


_default_poller: Poller | None = None


def poll_once(*, timeout: int = 0, channel: NotificationChannel | None = None) -> int:
    """One polling cycle over every enabled Telegram channel (or one), on a process-wide Poller."""
    global _default_poller
    if _default_poller is None:
        _default_poller = Poller()
    return _default_poller.poll_once(timeout=timeout, channel=channel)


def reset_default_poller() -> None:
    global _default_poller
    if _default_poller is not None:
        _default_poller.close()
    _default_poller = None


def _cycle(poller: Poller, stop: threading.Event, *, long_timeout: int) -> bool:
    """One polling cycle over the enabled channels; True when the loop should wait before the next."""
    channels = list(enabled_bot_channels())
    if not channels:
        return True
    # One channel may hold a long poll; several take turns with short ones.
    timeout = long_timeout if len(channels) == 1 else 1
    for channel in channels:
        if stop.is_set():
            break
        poller.poll_channel(channel, timeout=timeout)
    return all(ch.pk in poller.failed for ch in channels)  # back off after failures instead of hammering


MAX_BACKOFF_S = 60.0
POLLER_ERROR_PREFIX = "The Telegram poller failed"


def _health(error: str) -> None:
    """Show the poller's health on the Telegram channels in Settings (best effort: the database may be down)."""
    try:
        channels = NotificationChannel.objects.filter(kind=ChannelKind.TELEGRAM, enabled=True)
        if error:
            channels.update(last_error=error[:2000], last_error_at=timezone.now())
        else:
            channels.filter(last_error__startswith=POLLER_ERROR_PREFIX).update(last_error="", last_error_at=None)
    except Exception:
        log.warning("could not record the telegram poller's health", exc_info=True)
        with contextlib.suppress(Exception):
            connection.close()


def run_forever(
    stop: threading.Event,
    *,
    idle_s: float = 5.0,
    on_cycle: Callable[[], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Long-poll until ``stop`` is set. Settings are re-read every cycle: enabling, disabling or
    changing the token takes effect without a restart.

    Supervised: a cycle that raises (a locked or lost database, a bug) is logged, reported to
    ``on_error`` and retried after a growing pause (``idle_s`` doubling up to ``MAX_BACKOFF_S``);
    the loop never ends for it.
    """
    poller = Poller()
    long_timeout = int(getattr(settings, "MESA_TELEGRAM_POLL_TIMEOUT_S", 25))
    failures = 0
    try:
        while not stop.is_set():
            close_old_connections()
            if on_cycle is not None:
                on_cycle()  # tells watchers a cycle saw the current settings
            try:
                wait = _cycle(poller, stop, long_timeout=long_timeout)
            except Exception as exc:
                failures += 1
                log.exception("telegram poller cycle failed (%d in a row); retrying", failures)
                if on_error is not None:
                    on_error(exc)
                with contextlib.suppress(Exception):  # a broken connection is reopened next cycle
                    connection.close()
                pause = min(MAX_BACKOFF_S, idle_s * 2 ** (failures - 1))
                _health(f"The Telegram poller failed ({type(exc).__name__}: {exc}); retrying in {pause:g} s.")
                stop.wait(pause)
                continue
            if failures:
                _health("")  # working again: Settings no longer shows the poller's error
            failures = 0
            if wait:
                stop.wait(idle_s)
    finally:
        poller.close()
        connection.close()


class BotThread(threading.Thread):
    def __init__(self, idle_s: float = 5.0) -> None:
        super().__init__(name="mesa-telegram", daemon=True)
        self.stop_event = threading.Event()
        self.idle_s = idle_s
        self.cycles = 0  # polling cycles started (each re-read the settings)
        # Health for Settings: the last failed cycle's error and when; cleared by nothing (a count says more).
        self.errors = 0
        self.last_error = ""
        self.last_error_at: float | None = None

    def _tick(self) -> None:
        self.cycles += 1

    def _failed(self, exc: BaseException) -> None:
        self.errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]
        self.last_error_at = time.time()

    def run(self) -> None:
        run_forever(self.stop_event, idle_s=self.idle_s, on_cycle=self._tick, on_error=self._failed)

    def stop(self, timeout: float | None = None) -> None:
        self.stop_event.set()
        self.join(timeout)


def start_in_thread(idle_s: float = 5.0) -> BotThread:
    """Start the Telegram long-polling loop in a daemon thread (for the scheduler process); ``.stop()`` ends it."""
    thread = BotThread(idle_s)
    thread.start()
    return thread
