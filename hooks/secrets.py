"""Encryption at rest for hook secrets and forge tokens: the kernel's Fernet keys (``orgs.secrets``).

Everything in ``hooks`` encrypts and decrypts only through :func:`seal` and :func:`unseal`.
"""

from __future__ import annotations

from orgs.secrets import SecretsKeyError, decrypt, encrypt, mask


def seal(clear: str) -> str:
    """The ciphertext of ``clear`` (empty stays empty)."""
    return encrypt(clear) if clear else ""


def unseal(sealed: str) -> str:
    """The clear text of a :func:`seal` result; ValueError when it cannot be read."""
    if not sealed:
        return ""
    try:
        return decrypt(sealed)
    except SecretsKeyError as exc:
        raise ValueError(str(exc)) from exc


def hint(clear: str) -> str:
    """What may be shown of a secret: ``••••`` and at most its last four characters."""
    return mask(clear)
