"""Issue 16 item 12 replayed against a live server: keys are listed (never in clear) and revoked in Settings and with
``manage.py keys``; a revoked key stops working at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import Server, manage, prepare_db, run_python, start_daphne
from tests.security.visitor import Visitor

PW = "pw-not-secret-123"
SETUP = f"""
from django.contrib.auth import get_user_model
from orgs.actors import Actor
from orgs.models import Org
from orgs.services import membership_set, org_create
from agents.keys import key_create
system = Actor.system()
users = get_user_model().objects
users.create_superuser(username="op", password="{PW}")
mia = users.create_user(username="mia", password="{PW}")
membership_set(actor=system, org=Org.objects.get(slug="mesa"), user=mia, role="member")
other = org_create(actor=system, name="Other Corp", slug="other", issue_prefix="OTH")
key, raw = key_create(actor=system, org=other, kind="board", name="other org key")
print(key.pk, raw)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("mesa-keys")
    db = prepare_db(directory)
    live = start_daphne(db, directory / "daphne.log", MESA_TRUSTED_LOCAL="0")
    yield live
    live.stop()


def _key_id(settings_page: str, prefix: str) -> str:
    found = re.search(r'<tr data-key="(\d+)">(?:(?!</tr>).)*' + re.escape(prefix), settings_page, re.S)
    assert found, f"{prefix} is not listed"
    return found.group(1)


def test_it_lists_and_revokes_a_key_in_settings(server: Server) -> None:
    other_id, other_raw = run_python(server.db, SETUP).split()
    raw = manage(server.db, "board-key", "--name", "deploy script").strip()
    prefix = raw[:14]
    op, mia = Visitor(server), Visitor(server)
    assert op.api("GET", "/issues", raw).status == 200  # a use to show

    op.login("op", PW)
    page = op.get("/settings/").body
    assert "deploy script" in page and f"{prefix}…" in page and raw not in page
    key_id = _key_id(page, prefix)
    row = re.search(rf'<tr data-key="{key_id}">.*?</tr>', page, re.S)
    assert row and "never" not in row.group(0) and "ago" in row.group(0)  # the last use is shown
    assert "other org key" not in page  # keys of the org on screen only

    mia.login("mia", PW)
    assert mia.post("/settings/", {"action": "key_revoke", "key": key_id}, page="/settings/").status == 403
    assert op.api("GET", "/issues", raw).status == 200
    # Another org's key id from this org's page: not found, and it keeps working.
    assert op.post("/settings/", {"action": "key_revoke", "key": other_id}, page="/settings/").status == 404
    assert op.api("GET", "/issues", other_raw).status == 200

    assert op.post("/settings/", {"action": "key_revoke", "key": key_id}, page="/settings/").status == 302
    assert op.api("GET", "/issues", raw).status == 401
    assert f'data-key="{key_id}"' not in op.get("/settings/").body


def test_it_lists_and_revokes_a_key_with_manage_py(server: Server) -> None:
    raw = manage(server.db, "board-key", "--name", "cron job").strip()
    listing = manage(server.db, "keys", "list")
    line = next(line for line in listing.splitlines() if "cron job" in line)
    assert f"{raw[:14]}…" in line and raw not in listing
    manage(server.db, "keys", "revoke", line.split("\t")[0])
    assert Visitor(server).api("GET", "/issues", raw).status == 401
    assert "cron job" not in manage(server.db, "keys", "list")
    assert "cron job" in manage(server.db, "keys", "list", "--all")
