"""Issue 16 item 13 replayed against a live server in login mode: users see only their orgs; viewers cannot act."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import Server, prepare_db, run_python, start_daphne
from tests.security.visitor import Visitor

PW = "pw-not-secret-123"
SETUP = f"""
from django.contrib.auth import get_user_model
from orgs.actors import Actor
from orgs.models import Org
from orgs.services import membership_set, org_create
from issues.services import issue_create
system = Actor.system()
mesa = Org.objects.get(slug="mesa")
other = org_create(actor=system, name="Other Corp", slug="other", issue_prefix="OTH")
issue_create(actor=system, org=other, title="Other secret roadmap")
issue_create(actor=system, org=mesa, title="Mesa public roadmap")
users = get_user_model().objects
for name, role in [("mia", "member"), ("vic", "viewer")]:
    membership_set(actor=system, org=mesa, user=users.create_user(username=name, password="{PW}"), role=role)
users.create_superuser(username="op", password="{PW}")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("mesa-roles")
    db = prepare_db(directory)
    run_python(db, SETUP)
    live = start_daphne(db, directory / "daphne.log", MESA_TRUSTED_LOCAL="0")
    yield live
    live.stop()


def test_it_keeps_a_member_out_of_another_org(server: Server) -> None:
    mia = Visitor(server)
    assert mia.login("mia", PW).status == 302
    assert "Mesa public roadmap" in mia.get("/issues/").body
    mia.post("/org/switch", {"org": "other"}, page="/")
    listing = mia.get("/issues/").body
    assert "Other secret roadmap" not in listing and "Mesa public roadmap" in listing
    assert mia.get("/issues/OTH-1/").status == 404
    assert "Other Corp" not in mia.get("/").body


def test_it_lets_the_operator_into_every_org(server: Server) -> None:
    op = Visitor(server)
    assert op.login("op", PW).status == 302
    op.post("/org/switch", {"org": "other"}, page="/")
    assert "Other secret roadmap" in op.get("/issues/").body


def test_it_refuses_a_viewers_writes(server: Server) -> None:
    vic = Visitor(server)
    assert vic.login("vic", PW).status == 302
    assert "Mesa public roadmap" in vic.get("/issues/").body
    refused = vic.post("/issues/new", {"title": "Written by a viewer"}, page="/issues/")
    assert refused.status == 403 and "viewer" in refused.body
    renamed = vic.post("/settings/", {"action": "org", "name": "Hijacked", "issue_prefix": "MESA"}, page="/settings/")
    assert renamed.status == 403
    op = Visitor(server)
    op.login("op", PW)
    assert "Written by a viewer" not in op.get("/issues/").body
    assert "Hijacked" not in op.get("/settings/").body
