"""Channel secrets (bot tokens, webhook URLs, HMAC keys) and config: encrypted at rest, hints masked."""

from typing import Any

from django.db import migrations

import orgs.secrets


def _hint(secret: str) -> str:
    """notifications.services.secret_hint as of this migration: the host of a URL, then the mask."""
    if secret.startswith(("http://", "https://")):
        scheme, _, rest = secret.partition("://")
        return f"{scheme}://{rest.split('/')[0]}/{orgs.secrets.mask(secret)}"
    return orgs.secrets.mask(secret)


def forwards(apps: Any, schema_editor: Any) -> None:
    Channel = apps.get_model("notifications", "NotificationChannel")
    for channel in Channel.objects.only("pk", "config", "secret").iterator():
        # The fields encrypt on write; rows written before them are read as plain text.
        Channel.objects.filter(pk=channel.pk).update(
            config=channel.config or {}, secret=channel.secret or "", secret_hint=_hint(channel.secret or "")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notificationchannel",
            name="config",
            field=orgs.secrets.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="notificationchannel",
            name="secret",
            field=orgs.secrets.EncryptedTextField(blank=True, default=""),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
