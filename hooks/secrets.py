"""Encryption at rest for hook secrets and forge tokens.

MERGE SEAM: this is a local stand-in for ``orgs/secrets.py`` (Fernet, coming on another branch).
Everything in ``hooks`` encrypts and decrypts only through :func:`seal` and :func:`unseal`, so the
merge points these two names at that module and nothing else changes.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    # A key derived from SECRET_KEY: rotating SECRET_KEY makes the sealed values unreadable (re-enter them).
    digest = hashlib.sha256(f"mesa-hooks:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(clear: str) -> str:
    """The ciphertext of ``clear`` (empty stays empty)."""
    return _fernet().encrypt(clear.encode()).decode() if clear else ""


def unseal(sealed: str) -> str:
    """The clear text of a :func:`seal` result; ValueError when it cannot be read."""
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the sealed value cannot be decrypted (SECRET_KEY changed?)") from exc


def hint(clear: str) -> str:
    """What may be shown of a secret: its last four characters."""
    return f"…{clear[-4:]}" if len(clear) > 8 else "…"
