"""A cold start loads only what the first page uses: views by dotted path (orgs/lazy_views.py), registries by
name, DRF as a library, Twisted without TLS. Each module named here cost start-up time and memory when it
was loaded before the first page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve, reverse

from orgs.lazy_views import LazyView, view
from tests.browser.server import REPO, mesa_env, prepare_db

# Loaded by the first page of the old code; none of them is needed to show the dashboard.
HEAVY = (
    "rest_framework",
    "drf_spectacular.views",
    "api.views.issues",
    "api.cheatsheet",
    "web.worker_views",
    "runners.audit",
    "hooks.routines",
    "git",
    "docker",
    "psycopg",
    "requests",
    "yaml",
)

PROBE = """
import sys
import django
django.setup()
from django.test import Client
client = Client()
print(client.get("/", HTTP_HOST="127.0.0.1").status_code)
print(" ".join(m for m in sys.argv[1:] if m in sys.modules) or "-")
print(client.get("/api/v1/inbox", HTTP_HOST="127.0.0.1").status_code)
print(" ".join(m for m in sys.argv[1:] if m in sys.modules) or "-")
"""


def test_it_serves_the_first_page_without_loading_what_the_page_does_not_use(tmp_path: Path) -> None:
    db = prepare_db(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *HEAVY], cwd=REPO, env=mesa_env(db), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    page, loaded, api, loaded_after_api = done.stdout.split("\n")[:4]
    assert page == "200"
    assert loaded == "-"
    assert api == "401"  # no key: the API view ran, so it and DRF were imported by that request
    assert "rest_framework" in loaded_after_api.split()


def test_it_loads_twisted_without_tls_in_the_server() -> None:
    probe = (
        "import sys\n"
        "from mesa.serve import _without_tls\n"
        "_without_tls()\n"
        "import daphne.server, twisted.internet.tcp as tcp\n"
        "print('cryptography.x509' in sys.modules, getattr(tcp._TLSConnectionMixin, 'TLS', None))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_it_resolves_and_reverses_a_lazy_view_and_imports_it_at_the_first_call(org: Any) -> None:
    match = resolve("/issues/")
    assert isinstance(match.func, LazyView) and match.func.dotted == "issues.views.board"
    assert match._func_path == "issues.views.board"
    assert reverse("issues:board") == "/issues/"
    assert Client().get("/issues/").status_code == 200
    assert match.func.load().__name__ == "board"


def test_it_gives_drf_spectacular_the_api_view_class() -> None:
    func = resolve("/api/v1/inbox").func
    assert isinstance(func, LazyView) and func.cls.__name__ == "InboxApi" and func.csrf_exempt


def test_it_refuses_a_route_whose_csrf_exemption_disagrees_with_its_view_or_an_async_view() -> None:
    with pytest.raises(TypeError, match="csrf_exempt=True"):
        view("hooks.views.receive_view").load()  # the view is @csrf_exempt: its route must say so
    with pytest.raises(TypeError, match="csrf_exempt=False"):
        view("issues.views.board", csrf_exempt=True).load()
    with pytest.raises(TypeError, match="async"):
        view("web.sse.events").load()
