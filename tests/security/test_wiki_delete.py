"""Issue 16 item 4 replayed against a live server: an agent that is neither the author nor the CEO cannot delete
the board's wiki page; a permitted delete is soft (revisions kept, hidden from lists and search) and restorable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import Server, prepare_db, run_python, start_daphne
from tests.security.visitor import Visitor

SETUP = """
from agents.keys import key_create
from agents.models import Agent
from agents.selectors import org_ceo
from orgs.models import Org
mesa = Org.objects.get(slug="mesa")
ceo = org_ceo(mesa.pk)
worker = Agent.objects.filter(org=mesa).exclude(pk=ceo.pk).first()
for kind, agent in [("board", None), ("agent", worker), ("agent", ceo)]:
    print(key_create(actor=__import__("orgs.actors").actors.Actor.system(), org=mesa, kind=kind, agent=agent)[1])
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("mesa-wiki")
    db = prepare_db(directory)
    live = start_daphne(db, directory / "daphne.log")
    yield live
    live.stop()


def test_it_keeps_the_boards_page_from_another_agent(server: Server) -> None:
    board, worker, ceo = run_python(server.db, SETUP).split()
    http = Visitor(server)
    made = http.api("POST", "/wiki", board, {"title": "Deploy runbook", "content": "zeppelin steps"})
    assert made.status == 201, made.body
    http.api("PATCH", "/wiki/deploy-runbook", board, {"content": "zeppelin steps, second edition"})

    refused = http.api("DELETE", "/wiki/deploy-runbook", worker)
    assert refused.status == 403 and refused.json()["code"] == "not_author"
    assert http.api("GET", "/wiki/deploy-runbook", worker).status == 200

    assert http.api("DELETE", "/wiki/deploy-runbook", ceo).status == 204
    assert http.api("GET", "/wiki/deploy-runbook", board).status == 404
    assert "deploy-runbook" not in http.api("GET", "/wiki", board).body
    assert "deploy-runbook" not in http.api("GET", "/wiki/search?q=zeppelin", board).body
    assert http.api("POST", "/wiki/deploy-runbook/restore", worker).status == 403

    restored = http.api("POST", "/wiki/deploy-runbook/restore", board)
    assert restored.status == 200 and restored.json()["revision"] == 2
    assert len(http.api("GET", "/wiki/deploy-runbook/revisions", board).json()["results"]) == 2
    assert "deploy-runbook" in http.api("GET", "/wiki/search?q=zeppelin", board).body
