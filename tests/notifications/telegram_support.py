"""What the Telegram tests share: the test chat, its allowed user, and asking for an approval."""

from __future__ import annotations

from typing import Any

from approvals.models import Approval
from approvals.services import approval_create
from notifications.worker import run_once
from orgs.actors import Actor
from tests.fakes.telegram_api import FakeTelegram

SYSTEM = Actor.system("tests")
CHAT = -100123
ALLOWED = 111


def ask(org: Any, fake_tg: FakeTelegram, title: str = "Deploy to production") -> tuple[Approval, dict[str, Any]]:
    """Create an approval, run the worker, return it with the Telegram message the bot sent."""
    approval = approval_create(actor=SYSTEM, org=org, title=title, reason="Release day")
    run_once()
    return approval, fake_tg.sent_messages()[-1]
