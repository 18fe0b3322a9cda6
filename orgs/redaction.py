"""Redaction: known secret values never reach stored output, events, logs or error messages.

A :class:`Redactor` replaces each secret, matched case-insensitively (python-telegram-bot
capitalises error texts, which lowercases a token inside them), together with its URL-quoted form
and the base64 forms any encoded text containing it must contain (``Basic base64(user:secret)``).

The process also keeps a set of *live* secrets (``remember`` / ``forget``: a run's injected values
while it runs, a bot token while a client holds it). ``install_log_redaction`` makes every log record
pass through them, whichever logger or handler it goes to (httpx logs Bot API URLs that contain the
token). Other apps add the secrets they store through ``register_secret_source`` (layers above the
kernel own their secrets; the kernel only asks).
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from orgs.secrets import base64_forms

REDACTED = "[redacted]"
MIN_SECRET_LEN = 6  # shorter values ("1", "true") would shred ordinary text


def secret_forms(secret: str) -> set[str]:
    """The secret, its URL-quoted form, its base64 forms and, for a URL, its path (which carries the secret)."""
    forms = {secret, quote(secret, safe="")} | set(base64_forms(secret))
    if secret.startswith(("http://", "https://")):
        parts = urlsplit(secret)
        if len(parts.path.strip("/")) >= MIN_SECRET_LEN:
            forms.add(parts.path)  # a server that echoes the request path shows only this
            forms.add(parts.path.rstrip("/").rsplit("/", 1)[-1])
    return {f for f in forms if len(f) >= MIN_SECRET_LEN}


class Redactor:
    """Replaces every known secret value (and its encoded forms) with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = {str(s) for s in secrets if s and len(str(s)) >= MIN_SECRET_LEN}
        forms: set[str] = set()
        for value in values:
            forms |= secret_forms(value)
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted(values, key=len, reverse=True)
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in ordered), re.IGNORECASE) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(REDACTED, value)

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


# -- secrets other apps store --------------------------------------------------------------

SecretSource = Callable[[int], Iterable[str]]  # org id → the secret values that org stores
_sources: list[SecretSource] = []


def register_secret_source(source: SecretSource) -> None:
    if source not in _sources:
        _sources.append(source)


def stored_secrets(org_id: int) -> list[str]:
    """Every secret value the apps store for ``org_id`` (agent env values, channel tokens, webhook URLs)."""
    values: list[str] = []
    for source in _sources:
        values.extend(str(v) for v in source(org_id) if v)
    return values


# -- the process's live secrets and the logs ------------------------------------------------

_lock = threading.Lock()
_live: Counter[str] = Counter()
_live_redactor = Redactor(())


def remember(values: Iterable[str]) -> None:
    """Redact ``values`` from every log record until they are forgotten (counted: nested users are fine)."""
    global _live_redactor
    with _lock:
        _live.update(v for v in values if v and len(v) >= MIN_SECRET_LEN)
        _live_redactor = Redactor(_live)


def forget(values: Iterable[str]) -> None:
    global _live_redactor
    with _lock:
        _live.subtract(v for v in values if v and len(v) >= MIN_SECRET_LEN)
        for value in [v for v, n in _live.items() if n <= 0]:
            del _live[value]
        _live_redactor = Redactor(_live)


def redact(text: str) -> str:
    """``text`` without any live secret."""
    return _live_redactor.text(text)


_installed = False


def install_log_redaction() -> None:
    """Redact live secrets from every log record as it is made (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        redactor = _live_redactor
        if not redactor:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's problem to report, not ours
            return record
        clean = redactor.text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            clean = redactor.text(text)
            if clean != text:
                record.exc_text = clean
        return record

    logging.setLogRecordFactory(factory)
