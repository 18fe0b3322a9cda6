from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agents.keys import key_create, key_lookup
from agents.selectors import key_get, keys_listed
from orgs.actors import Actor
from orgs.errors import NotFound
from tests.factories import make_agent, make_org

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def test_it_lists_an_orgs_board_and_agent_keys_but_not_run_keys() -> None:
    org, other = make_org(), make_org()
    agent = make_agent(org)
    board, _ = key_create(actor=SYSTEM, org=org, kind="board", name="ci")
    agent_key, _ = key_create(actor=SYSTEM, org=org, kind="agent", agent=agent)
    key_create(actor=SYSTEM, org=org, kind="run", agent=agent)
    key_create(actor=SYSTEM, org=other, kind="board")
    assert list(keys_listed(org)) == [agent_key, board]


def test_it_finds_a_key_only_in_its_org() -> None:
    org, other = make_org(), make_org()
    key, _ = key_create(actor=SYSTEM, org=org, kind="board")
    assert key_get(org, key.pk) == key
    with pytest.raises(NotFound):
        key_get(other, key.pk)
    with pytest.raises(NotFound):
        key_get(org, "not-a-number")


def test_it_lists_and_revokes_keys_from_manage_py() -> None:
    org = make_org(slug="acme")
    key, raw = key_create(actor=SYSTEM, org=org, kind="board", name="deploy bot")
    assert key_lookup(raw) is not None  # records a last use
    out = StringIO()
    call_command("keys", "list", stdout=out)
    line = out.getvalue()
    assert f"{key.pk}\tacme\tboard\t-\tdeploy bot\t{key.prefix}…" in line and "last use 20" in line
    assert raw not in line and raw[len(key.prefix) :] not in line
    call_command("keys", "revoke", key.prefix, stdout=StringIO())
    assert key_lookup(raw) is None
    out = StringIO()
    call_command("keys", "list", stdout=out)
    assert out.getvalue() == ""
    call_command("keys", "list", "--all", stdout=out)
    assert "revoked" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("keys", "revoke", str(key.pk))
