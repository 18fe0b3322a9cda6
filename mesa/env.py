"""Tiny typed helpers that read configuration from the environment."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def secret_key(base_dir: Path) -> str:
    """Return SECRET_KEY from the environment, else a random key persisted beside the code.

    The key file is created once (mode 0600) so sessions survive restarts; there is
    never a hard-coded fallback.
    """
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    path = Path(os.environ.get("MESA_SECRET_KEY_FILE", base_dir / ".mesa-secret-key"))
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
    except OSError:
        # Read-only checkout: fall back to a per-process key (sessions end at restart).
        return secrets.token_urlsafe(50)


def database_config(url: str, base_dir: Path) -> dict[str, Any]:
    """Translate DATABASE_URL into a Django DATABASES entry.

    Supports ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` and
    ``postgres://user:pass@host:port/name?opt=value``. An empty URL means the
    embedded SQLite file ``mesa.db`` in the repository root.
    """
    if not url:
        url = "sqlite:///mesa.db"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        raw = unquote(url.split("://", 1)[1])
        name = raw[1:] if raw.startswith("/") else raw
        path = Path(name)
        if name != ":memory:" and not path.is_absolute():
            path = base_dir / path
        # How long a writer waits for the write lock before "database is locked" (the API's 503).
        busy_s = float(os.environ.get("MESA_DB_BUSY_TIMEOUT_S") or 20)
        return {
            "ENGINE": "mesa.backends.sqlite3",  # Django's, with in-process writers queued (see there)
            "NAME": str(path) if name != ":memory:" else ":memory:",
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue
                # on the busy timeout instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": busy_s,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    f"PRAGMA busy_timeout={int(busy_s * 1000)};"
                ),
            },
            # Kept open between requests: request threads are reused (mesa/handler.py), and opening a
            # connection runs the PRAGMAs above each time.
            "CONN_MAX_AGE": 600,
            # A file (not :memory:) so tests can use threads and subprocesses against
            # the real database; one per pytest process so parallel runs never collide.
            "TEST": {
                "NAME": os.environ.get("MESA_TEST_DB")
                or str(Path(tempfile.gettempdir()) / f"mesa-test-{os.getpid()}.db")
            },
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        options: dict[str, Any] = dict(parse_qsl(parts.query))
        # One connection pool per process (psycopg_pool), so threads share a few connections instead
        # of each opening its own until the server answers "too many clients". Size it so that
        # processes × MESA_DB_POOL_SIZE stays under the server's max_connections; a thread that
        # finds every connection busy waits up to MESA_DB_POOL_TIMEOUT_S.
        pool_size = int(os.environ.get("MESA_DB_POOL_SIZE") or 20)
        if pool_size > 0:
            options["pool"] = {
                "min_size": 1,
                "max_size": pool_size,
                "timeout": float(os.environ.get("MESA_DB_POOL_TIMEOUT_S") or 20),
            }
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            # A pooled connection goes back to the pool at the end of each request (Django's rule).
            "CONN_MAX_AGE": 0 if pool_size > 0 else 60,
        }
    raise ValueError(f"DATABASE_URL scheme {scheme!r} is not supported (use sqlite or postgres)")
