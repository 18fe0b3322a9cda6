"""The Django admin covers every domain model, so a human can fix anything by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from tests.factories import (
    make_agent,
    make_apex_block,
    make_comment,
    make_issue,
    make_label,
    make_wiki_page,
    make_work_block,
)

# Every app of this project (a package at the top of the checkout), not a fixed list that new apps miss.
PROJECT_APPS = [c for c in apps.get_app_configs() if Path(c.path).resolve().parent == Path(settings.BASE_DIR).resolve()]
MODELS = [m for config in PROJECT_APPS for m in config.get_models()]
INLINED = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
REGISTERED = [m for m in MODELS if admin.site.is_registered(m)]


def test_it_covers_the_apps_that_have_models() -> None:
    with_models = {c.label for c in PROJECT_APPS if list(c.get_models())}
    assert {"orgs", "agents", "runners", "notifications", "hooks"} <= with_models


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_it_registers_every_model_in_the_admin(model: Any) -> None:
    assert admin.site.is_registered(model) or model in INLINED, f"{model._meta.label} has no admin"


def test_it_renders_each_admin_list_and_change_page(client: Any, org: Any) -> None:
    from django.contrib.auth import get_user_model

    ceo = make_agent(org, slug="ceo", archetype="ceo")
    issue = make_issue(org, assignee=ceo, labels=[make_label(org, name="bug").name], work_block=make_work_block(org))
    make_comment(issue)
    make_apex_block(org)
    make_wiki_page(org, title="Runbook")
    # No password: hashing one is slow and the admin only needs a staff session.
    client.force_login(get_user_model().objects.create(username="root", is_staff=True, is_superuser=True))
    broken = []
    for model in REGISTERED:
        meta = model._meta
        urls = [reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")]
        obj = model._default_manager.first()
        if obj is not None:
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
        broken += [(url, code) for url in urls if (code := client.get(url).status_code) != 200]
    assert broken == []
    assert len(REGISTERED) >= 30
