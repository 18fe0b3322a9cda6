"""orgs.secrets: Fernet at rest, the key file, masks, fingerprints and the base64 forms redaction needs."""

from __future__ import annotations

import base64
import importlib
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.db import connection

from agents.models import Agent, AgentVersion
from notifications.models import NotificationChannel
from orgs import secrets
from orgs.models import Activity
from tests.factories import make_agent


@pytest.fixture
def fresh_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No MESA_SECRETS_KEY; the key file lives in tmp_path."""
    monkeypatch.delenv("MESA_SECRETS_KEY", raising=False)
    path = tmp_path / "keyfile"
    monkeypatch.setenv("MESA_SECRETS_KEY_FILE", str(path))
    secrets.reset_cache()
    yield path
    secrets.reset_cache()


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def test_it_round_trips_and_never_stores_the_clear_text(fresh_key: Path) -> None:
    token = secrets.encrypt("hunter2-is-my-password")
    assert token.startswith("fernet:") and "hunter2" not in token
    assert secrets.decrypt(token) == "hunter2-is-my-password"
    assert secrets.encrypt("hunter2-is-my-password") != token  # random IV: equal secrets do not look equal
    assert secrets.decrypt("legacy plain") == "legacy plain"  # rows from before encryption still load


def test_it_generates_the_key_file_once_with_owner_only_access(fresh_key: Path) -> None:
    token = secrets.encrypt("value-one")
    assert stat.S_IMODE(fresh_key.stat().st_mode) == 0o600
    first = fresh_key.read_bytes()
    secrets.reset_cache()
    assert secrets.decrypt(token) == "value-one"  # a restart reads the same key
    assert fresh_key.read_bytes() == first


def test_it_takes_the_key_from_the_environment_and_refuses_a_wrong_one(
    fresh_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("MESA_SECRETS_KEY", old)
    secrets.reset_cache()
    token = secrets.encrypt("rotate-me-please")
    assert not fresh_key.exists()
    monkeypatch.setenv("MESA_SECRETS_KEY", f"{new},{old}")  # rotation: the new key first, the old still reads
    secrets.reset_cache()
    assert secrets.decrypt(token) == "rotate-me-please"
    monkeypatch.setenv("MESA_SECRETS_KEY", new)
    secrets.reset_cache()
    with pytest.raises(secrets.SecretsKeyError):
        secrets.decrypt(token)


def test_it_masks_and_fingerprints_without_revealing() -> None:
    assert secrets.mask("sk-live-abcdefgh1234") == "••••1234"
    assert secrets.mask("short") == "••••"  # a short secret shows nothing of itself
    assert secrets.mask("") == ""
    fp = secrets.fingerprint("sk-live-abcdefgh1234")
    assert fp == secrets.fingerprint("sk-live-abcdefgh1234") != secrets.fingerprint("sk-live-abcdefgh1235")
    assert "1234" not in secrets.env_fingerprints({"K": "sk-live-abcdefgh1234"})["K"]


@pytest.mark.parametrize("prefix", ["", "u:", "us:", "user:"])
def test_it_finds_a_secret_inside_any_base64_text(prefix: str) -> None:
    secret = "Pa55word-Deploy-42"
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode((prefix + secret + "@host").encode()).decode()
        assert any(form in encoded for form in secrets.base64_forms(secret)), (prefix, encoded)


def test_it_stores_agent_env_and_channel_secrets_encrypted(org: Any) -> None:
    agent = make_agent(org, slug="dev", env={"DEPLOY_PWD": "correct-horse-battery"})
    channel = NotificationChannel.objects.create(
        org=org, kind="discord", name="d", config={"x": "y"}, secret="https://discord.com/api/webhooks/1/tok-abc"
    )
    assert "correct-horse" not in _raw("agents_agent", "env", agent.pk)
    assert "tok-abc" not in _raw("notifications_notificationchannel", "secret", channel.pk)
    assert Agent.objects.get(pk=agent.pk).env == {"DEPLOY_PWD": "correct-horse-battery"}
    assert NotificationChannel.objects.get(pk=channel.pk).secret.endswith("tok-abc")


def test_the_migrations_encrypt_existing_rows_and_drop_values_from_history(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    channel = NotificationChannel.objects.create(org=org, kind="telegram", name="t", secret="1:x")
    version = agent.versions.get()
    activity = Activity.objects.create(
        org=org, actor_kind="system", verb="updated", object_type="agent", object_id=str(agent.pk),
        details={"changes": {"env": [{}, {"DEPLOY_PWD": "correct-horse-battery"}]}},
    )  # fmt: skip
    with connection.cursor() as cursor:  # rows as the old code wrote them
        cursor.execute("UPDATE agents_agent SET env = %s WHERE id = %s", ['{"DEPLOY_PWD": "correct-horse"}', agent.pk])
        cursor.execute(
            "UPDATE agents_agentversion SET config = %s, changes = %s WHERE id = %s",
            ['{"env": {"DEPLOY_PWD": "correct-horse"}}', '{"env": [{}, {"DEPLOY_PWD": "correct-horse"}]}', version.pk],
        )
        cursor.execute(
            "UPDATE notifications_notificationchannel SET secret = %s, secret_hint = %s WHERE id = %s",
            ["123456:AAH-plain-bot-token", "123456…", channel.pk],
        )
    importlib.import_module("agents.migrations.0005_agent_env_encrypted").forwards(apps, None)
    importlib.import_module("notifications.migrations.0002_channel_secrets_encrypted").forwards(apps, None)

    assert "correct-horse" not in _raw("agents_agent", "env", agent.pk)
    assert Agent.objects.get(pk=agent.pk).env == {"DEPLOY_PWD": "correct-horse"}
    version = AgentVersion.objects.get(pk=version.pk)
    assert version.config["env"] == secrets.env_fingerprints({"DEPLOY_PWD": "correct-horse"})
    assert version.changes["env"][1] == secrets.env_fingerprints({"DEPLOY_PWD": "correct-horse"})
    assert "correct-horse" not in str(Activity.objects.get(pk=activity.pk).details)
    assert "AAH-plain" not in _raw("notifications_notificationchannel", "secret", channel.pk)
    channel = NotificationChannel.objects.get(pk=channel.pk)
    assert (channel.secret, channel.secret_hint) == ("123456:AAH-plain-bot-token", "••••oken")
