"""A small synchronous facade over python-telegram-bot's async ``Bot``.

Each client owns one private event loop and runs every Bot API call to completion
on it, so Django ORM code around the calls stays plain synchronous code and the
library's HTTP connection pool always lives on the same loop. Errors come out as
one ``TelegramCallError`` that says whether retrying makes sense, with the bot
token scrubbed from every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import warnings
from collections.abc import Coroutine, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message, Update, User
from telegram import error as tg_error
from telegram.request import HTTPXRequest

from orgs.redaction import Redactor, forget, remember

DEFAULT_BASE_URL = "https://api.telegram.org"
# PTB 22 warns from inside its own RetryAfter constructor; we read the value either way (see _seconds).
warnings.filterwarnings(
    "ignore", message=r"Deprecated since version v22\.2: In a future major version attribute `retry_after`"
)
T = TypeVar("T")


class TelegramCallError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        unauthorized: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.unauthorized = unauthorized


# Telegram refuses a longer message text ("message is too long"); it counts UTF-16 code units.
TELEGRAM_TEXT_MAX = 4096


def fit_text(text: str, limit: int = TELEGRAM_TEXT_MAX) -> str:
    """``text`` cut to what Telegram accepts, ending in "…" when cut (a refused message would say nothing)."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > limit - 1:  # room for the "…"
            break
        kept.append(char)
        used += width
    return "".join(kept) + "…"


def api_base(base_url: str) -> str:
    """The library's ``base_url`` (ending in ``/bot``) for a server root like https://api.telegram.org."""
    root = (base_url or DEFAULT_BASE_URL).strip().rstrip("/")
    if root.endswith("/bot"):
        root = root[: -len("/bot")]
    return f"{root}/bot"


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class TelegramClient:
    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL, *, read_timeout: float = 10.0) -> None:
        self.token = token
        self.base_url = base_url
        self._redactor = Redactor([token])
        # While a client lives its token is redacted from every log line (httpx and PTB log Bot API URLs).
        remember([token])
        self._loop = asyncio.new_event_loop()
        self.bot = Bot(
            token,
            base_url=api_base(base_url),
            request=HTTPXRequest(connect_timeout=5.0, read_timeout=read_timeout),
            # Long polls hold the connection open for `timeout` seconds; the read timeout is raised per call.
            get_updates_request=HTTPXRequest(connect_timeout=5.0, read_timeout=read_timeout),
        )

    # -- plumbing -------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        # Case-insensitive: PTB capitalises error texts (``str.capitalize`` lowercases a token in them).
        return self._redactor.text(text)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            return self._loop.run_until_complete(coro)
        except tg_error.RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta later
                warnings.simplefilter("ignore")
                after = _seconds(exc.retry_after)
            raise TelegramCallError(
                f"Telegram asked to wait {after:g} s (429 Too Many Requests).",
                status=429,
                retryable=True,
                retry_after=after,
            ) from None
        except tg_error.InvalidToken:
            raise TelegramCallError(
                "Telegram rejected the bot token (401 Unauthorized). Copy the token again from @BotFather.",
                status=401,
                unauthorized=True,
            ) from None
        except tg_error.Forbidden as exc:
            raise TelegramCallError(
                f"Telegram refused (403): {self._scrub(exc.message)}. Is the bot a member of the chat?", status=403
            ) from None
        except tg_error.BadRequest as exc:
            raise TelegramCallError(
                f"Telegram rejected the request (400): {self._scrub(exc.message)}", status=400
            ) from None
        except tg_error.Conflict as exc:
            raise TelegramCallError(
                f"Telegram conflict (409): {self._scrub(exc.message)}", status=409, retryable=True
            ) from None
        except tg_error.NetworkError as exc:  # includes TimedOut and 5xx answers
            match = re.search(r"\((\d{3})\)", exc.message)
            status = int(match.group(1)) if match else (502 if "Bad Gateway" in exc.message else None)
            raise TelegramCallError(
                f"Could not reach the Telegram Bot API: {self._scrub(exc.message)}", status=status, retryable=True
            ) from None
        except tg_error.TelegramError as exc:
            raise TelegramCallError(f"Telegram error: {self._scrub(exc.message)}") from None

    def close(self) -> None:
        if self._loop.is_closed():
            return
        forget([self.token])
        with contextlib.suppress(Exception):  # closing is best effort
            self._loop.run_until_complete(self.bot.shutdown())
        self._loop.close()

    # -- Bot API calls ----------------------------------------------------------
    def get_me(self) -> User:
        return self._run(self.bot.get_me())

    def get_updates(self, *, offset: int, timeout: int) -> Sequence[Update]:
        return self._run(
            self.bot.get_updates(
                offset=offset or None,
                timeout=timeout,
                read_timeout=timeout + 10,
                allowed_updates=["message", "callback_query"],
            )
        )

    def send_message(
        self, *, chat_id: int | str, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        return self._run(self.bot.send_message(chat_id=chat_id, text=fit_text(text), reply_markup=reply_markup))

    def edit_message_text(
        self, *, chat_id: int | str, message_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> bool:
        """Edit a message; False when it no longer exists (deleted in the chat), so there is nothing to edit."""
        try:
            self._run(
                self.bot.edit_message_text(
                    chat_id=chat_id, message_id=message_id, text=fit_text(text), reply_markup=reply_markup
                )
            )
        except TelegramCallError as exc:
            if exc.status == 400 and "message is not modified" in exc.message.lower():
                return True  # someone (or an earlier retry) already put this text there: that is success
            if exc.status == 400 and "message to edit not found" in exc.message.lower():
                return False
            raise
        return True

    def answer_callback_query(self, *, callback_query_id: str, text: str, show_alert: bool = False) -> None:
        self._run(self.bot.answer_callback_query(callback_query_id, text=text[:200], show_alert=show_alert))
