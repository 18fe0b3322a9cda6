from __future__ import annotations

from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "hooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration must wait until every app's models are loaded (AppConfig.ready), hence the imports here.
        from orgs.redaction import register_secret_source
        from runners.companions import register_periodic

        register_periodic("hooks.routines.routines_fire_due")  # imported at the first periodic pass
        register_secret_source(hook_secrets)


def hook_secrets(org_id: int) -> list[str]:
    """The org's hook secrets and forge tokens, in clear, so redaction can hide them anywhere they surface."""
    # Imported here: apps.py is loaded before the models are.
    from hooks.models import Hook
    from hooks.secrets import unseal

    values: list[str] = []
    for sealed in Hook.objects.filter(org_id=org_id).values_list("secret_sealed", "token_sealed"):
        for value in sealed:
            try:
                values.append(unseal(value))
            except ValueError:
                continue  # unreadable with this key: nothing of it can leak either
    return [v for v in values if v]
