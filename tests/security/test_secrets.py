"""Issue 16 item 5, replayed against a live server: secrets are never in clear at rest, on pages or in the API.

The attack: read an agent's ``env`` values on its page (version history), in the API, in versions and
activity rows, and a channel's bot token or webhook URL straight from the database columns.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from agents.keys import key_create
from agents.models import KeyKind
from agents.services import agent_update
from notifications.services import channel_create
from orgs.actors import Actor
from orgs.models import Activity
from tests.factories import make_agent, make_org
from tests.security.live import fetch, operator_cookie

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("tests")
ENV_SECRET = "prod-db-password-9f8e7d6c"
BOT_TOKEN = "123456789:AAHsecretBotTokenValue42"
HOOK = "https://discord.com/api/webhooks/111/hook-secret-path-value"


def _dump(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return repr(cursor.fetchall())


def test_agent_env_values_never_show_and_are_not_stored_in_clear(live_server: Any) -> None:
    org = make_org(slug="acme", issue_prefix="ACME")
    agent = make_agent(org, slug="deployer")
    agent_update(actor=SYSTEM, agent=agent, env={"DEPLOY_PWD": ENV_SECRET})
    agent_update(actor=SYSTEM, agent=agent, env={"DEPLOY_PWD": ENV_SECRET + "-v2"})
    _, board_key = key_create(actor=SYSTEM, org=org, kind=KeyKind.BOARD)

    page = fetch(f"{live_server.url}/agents/deployer/", cookie=operator_cookie())
    assert page.status == 200 and "DEPLOY_PWD" in page.body
    assert ENV_SECRET not in page.body  # the version history showed old → new values
    assert "••••" in page.body  # the value is shown masked

    api = fetch(f"{live_server.url}/api/v1/agents/deployer", key=board_key)
    assert api.status == 200, api.body
    assert ENV_SECRET not in api.body
    assert api.json()["env"] == {"DEPLOY_PWD": "••••c-v2"}

    stored = _dump("SELECT env FROM agents_agent") + _dump("SELECT config, changes FROM agents_agentversion")
    stored += repr(list(Activity.objects.values_list("details", flat=True)))
    assert ENV_SECRET not in stored


def test_channel_tokens_and_webhook_urls_are_encrypted_and_masked(live_server: Any) -> None:
    org = make_org(slug="acme", issue_prefix="ACME")
    channel_create(
        actor=SYSTEM, org=org, kind="telegram", config={"chat_id": "-100123", "allowed_user_ids": [7]}, secret=BOT_TOKEN
    )
    channel_create(actor=SYSTEM, org=org, kind="discord", config={}, secret=HOOK)

    columns = _dump("SELECT config, secret, secret_hint FROM notifications_notificationchannel")
    assert "AAHsecret" not in columns and "hook-secret-path" not in columns

    page = fetch(f"{live_server.url}/settings/notifications/", cookie=operator_cookie())
    assert page.status == 200
    assert "AAHsecret" not in page.body and "hook-secret-path" not in page.body
    assert "••••ue42" in page.body and "••••alue" in page.body
