"""Agent env values: encrypted at rest; versions and activity keep names and fingerprints only."""

from typing import Any

from django.db import migrations

import orgs.secrets
from orgs.secrets import env_fingerprints


def _fingerprinted(value: Any) -> Any:
    """An env stored in a version or an activity row, values replaced by fingerprints (idempotent)."""
    if not isinstance(value, dict):
        return value
    return {k: v if str(v).startswith("fp:") else env_fingerprints({k: v})[k] for k, v in value.items()}


def forwards(apps: Any, schema_editor: Any) -> None:
    Agent = apps.get_model("agents", "Agent")
    AgentVersion = apps.get_model("agents", "AgentVersion")
    Activity = apps.get_model("orgs", "Activity")
    for agent in Agent.objects.only("pk", "env").iterator():
        # The field encrypts on write; rows written before it are read as plain JSON.
        Agent.objects.filter(pk=agent.pk).update(env=agent.env or {})
    for version in AgentVersion.objects.only("pk", "config", "changes").iterator():
        config = dict(version.config or {})
        changes = dict(version.changes or {})
        if "env" in config:
            config["env"] = _fingerprinted(config["env"])
        if "env" in changes and isinstance(changes["env"], list):
            changes["env"] = [_fingerprinted(v) for v in changes["env"]]
        AgentVersion.objects.filter(pk=version.pk).update(config=config, changes=changes)
    for activity in Activity.objects.filter(object_type="agent").only("pk", "details").iterator():
        details = activity.details
        env_change = (details or {}).get("changes", {}).get("env") if isinstance(details, dict) else None
        if isinstance(env_change, list):
            details["changes"]["env"] = [_fingerprinted(v) for v in env_change]
            Activity.objects.filter(pk=activity.pk).update(details=details)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0004_agent_ship_mode"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="agent",
            name="env",
            field=orgs.secrets.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
