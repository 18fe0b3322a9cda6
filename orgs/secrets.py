"""Secrets at rest: Fernet encryption, masking, fingerprints and the model fields that use them.

The key comes from ``MESA_SECRETS_KEY`` (one Fernet key, or several separated by commas: the
first encrypts, every one decrypts, so a key can be rotated). Without it a key is generated once
into ``MESA_SECRETS_KEY_FILE`` (default ``<BASE_DIR>/.mesa-secrets-key``, mode 0600), like the
Django secret key. Losing that file makes the stored secrets unreadable: back it up with the
database, but never in the same place.

Encrypted values are stored as ``fernet:<token>``; a value without the prefix is read as plain
text, so rows written before encryption still load (the migrations re-save them encrypted).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"
MASK = "••••"


class SecretsKeyError(RuntimeError):
    """The stored secrets cannot be read with the configured key."""


def _key_file() -> Path:
    default = Path(settings.BASE_DIR) / ".mesa-secrets-key"
    return Path(os.environ.get("MESA_SECRETS_KEY_FILE", "") or default)


def _load_keys() -> list[bytes]:
    raw = os.environ.get("MESA_SECRETS_KEY", "").strip()
    if raw:
        return [k.strip().encode() for k in raw.split(",") if k.strip()]
    path = _key_file()
    try:
        return [path.read_text().strip().encode()]
    except FileNotFoundError:
        key = Fernet.generate_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return [path.read_text().strip().encode()]
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return [key]


@functools.cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k) for k in _load_keys()])


@functools.cache
def _fingerprint_key() -> bytes:
    # Keyed, so a fingerprint of a short secret cannot be brute-forced without the key.
    return hashlib.sha256(b"mesa-fingerprint:" + _load_keys()[0]).digest()


def reset_cache() -> None:
    """Forget the loaded key (tests that change MESA_SECRETS_KEY)."""
    _fernet.cache_clear()
    _fingerprint_key.cache_clear()


def encrypt(value: str) -> str:
    if value == "" or value.startswith(PREFIX):
        return value
    return PREFIX + _fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    if not value.startswith(PREFIX):
        return value  # written before encryption
    try:
        return _fernet().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise SecretsKeyError(
            "A stored secret cannot be decrypted: MESA_SECRETS_KEY (or the .mesa-secrets-key file) "
            "is not the key it was written with."
        ) from exc


def is_encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def mask(value: str) -> str:
    """``••••1234``: the last four characters of a long secret, nothing of a short one."""
    value = str(value or "")
    if not value:
        return ""
    return MASK + value[-4:] if len(value) >= 12 else MASK


def fingerprint(value: str) -> str:
    """A short keyed digest: tells whether a secret changed without revealing it."""
    return hmac.new(_fingerprint_key(), str(value).encode(), hashlib.sha256).hexdigest()[:12]


def env_fingerprints(env: dict[str, Any] | None) -> dict[str, str]:
    """What versions and activity keep of an env: each name with its value's fingerprint."""
    return {str(k): f"fp:{fingerprint(str(v))}" for k, v in sorted((env or {}).items())}


def env_masked(env: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): mask(str(v)) for k, v in sorted((env or {}).items())}


def base64_forms(value: str, *, min_len: int = 8) -> list[str]:
    """The substrings any base64 (standard or URL-safe) text containing ``value`` must contain.

    A secret inside a larger encoded text (``Basic base64(user:secret)``) starts at any of three
    byte offsets; for each, the characters that depend only on the secret's bytes are kept.
    """
    data = value.encode()
    forms: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode().rstrip("=")
        start = (8 * offset + 5) // 6  # first character made only of the secret's bits
        end = len(encoded) - (1 if (offset + len(data)) % 3 else 0)  # last one may mix in the next byte
        core = encoded[start:end]
        if len(core) >= min_len:
            forms.add(core)
            forms.add(core.replace("+", "-").replace("/", "_"))
    return sorted(forms)


class EncryptedTextField(models.TextField):
    """A text column stored Fernet-encrypted; the model attribute is the clear text."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return decrypt(value) if isinstance(value, str) else value

    def to_python(self, value: Any) -> Any:
        return decrypt(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return encrypt(value) if isinstance(value, str) else value


class EncryptedJSONField(models.JSONField):
    """A JSON value stored as one encrypted JSON string; the model attribute is the clear value.

    Not for lookups: the stored form changes at every save.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        value = super().from_db_value(value, expression, connection)
        if is_encrypted(value):
            return json.loads(decrypt(value))
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None or is_encrypted(value):
            return super().get_prep_value(value)
        return super().get_prep_value(encrypt(json.dumps(value, cls=self.encoder)))
