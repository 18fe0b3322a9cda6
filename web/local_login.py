"""Trusted local mode's one secret: a login link printed to the person who started Mesa.

Bound to loopback, Mesa needs no account, but "no account" must not mean "any local process":
an agent or a script that merely reaches the port must not act as the board. ``make run`` (and
``manage.py login-link``) print a link with a one-time token; opening it marks the browser's
session as the local operator's. Only the token's SHA-256 is kept (``MESA_LOCAL_LOGIN_FILE``,
mode 0600), and a used link is gone. A run's environment never holds the token: it exists only
on the terminal that printed it.

Limit (README "What local mode trusts"): an agent running on the host as the same OS user can
start ``manage.py login-link`` itself; the container sandbox is what keeps agents off the host.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest

SESSION_LOCAL_KEY = "mesa_local"
LINK_PATH = "/login/local"


def _file() -> Path:
    return Path(settings.MESA_LOCAL_LOGIN_FILE)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_link_create(base_url: str = "") -> str:
    """A fresh one-time login link (any earlier unused link stops working)."""
    token = secrets.token_urlsafe(32)
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(_digest(token))
    os.chmod(path, 0o600)
    # Local mode serves on loopback: the link points at the port this instance listens on.
    base = base_url or f"http://{settings.HOST}:{settings.PORT}"
    return f"{base.rstrip('/')}{LINK_PATH}?token={token}"


def login_link_use(token: str) -> bool:
    """True once for the token of the current link, which is then used up."""
    path = _file()
    try:
        expected = path.read_text().strip()
    except OSError:
        return False
    if not token or not expected or not hmac.compare_digest(_digest(token), expected):
        return False
    path.unlink(missing_ok=True)
    return True


def local_session_required() -> bool:
    """Trusted local mode with the login link switched on (``MESA_LOCAL_LOGIN``, the default)."""
    return bool(settings.MESA_TRUSTED_LOCAL and settings.MESA_LOCAL_LOGIN)


def has_local_session(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(SESSION_LOCAL_KEY))
