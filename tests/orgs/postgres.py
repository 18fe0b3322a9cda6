"""Helpers for tests that run Mesa against a real PostgreSQL server in a subprocess (not a test module).

``pg_database()`` creates a fresh database (skipping the test when no server is
reachable) and drops it afterwards; ``run_mesa_script()`` runs Python code with
``DATABASE_URL`` pointing at it and returns the JSON the script printed last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("MESA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")

# Prepended to every script: Django set up against the fresh database, schema migrated.
PRELUDE = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
"""


@contextmanager
def pg_database() -> Iterator[str]:
    """Yield the URL of a new, empty database; skip when PostgreSQL is not reachable."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {SERVER} ({exc}); set MESA_TEST_POSTGRES to point at one")
    name = f"mesa_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{SERVER}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_mesa_script(url: str, script: str, *args: str, timeout: float = 120, **extra_env: str) -> Any:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "mesa.settings",
        "SECRET_KEY": "test-only-not-secret",
        "MESA_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + script, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
