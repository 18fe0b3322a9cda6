from __future__ import annotations

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Models are loaded only now (AppConfig.ready), hence the imports here.
        from orgs.redaction import register_secret_source

        register_secret_source(agent_env_values)


def agent_env_values(org_id: int) -> list[str]:
    """The env values of every agent of the org (secrets redacted from every run's output)."""
    # Imported here: apps.py is loaded before the models are.
    from agents.models import Agent

    return [
        str(v)
        for env in Agent.objects.filter(org_id=org_id).values_list("env", flat=True)
        for v in (env or {}).values()
    ]
