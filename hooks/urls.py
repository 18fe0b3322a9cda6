from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "hooks"

urlpatterns = [
    path(
        "hooks/<str:org>/<str:source>/<str:public_id>",
        view("hooks.views.receive_view", csrf_exempt=True),
        name="receive",
    ),
    path("logs/", view("hooks.views.logs_page"), name="logs"),
    path("settings/hooks/", view("hooks.views.settings_page"), name="settings"),
    path("settings/hooks/new/", view("hooks.views.hook_new"), name="new"),
    path("settings/hooks/<int:pk>/rotate/", view("hooks.views.hook_rotate"), name="rotate"),
    path("settings/hooks/<int:pk>/toggle/", view("hooks.views.hook_toggle"), name="toggle"),
    path("settings/hooks/rules/new/", view("hooks.views.rule_new"), name="rule-new"),
    path("settings/hooks/routines/<int:pk>/run/", view("hooks.views.routine_run"), name="routine-run"),
    path("settings/hooks/deliveries/<int:pk>/redeliver/", view("hooks.views.delivery_redeliver"), name="redeliver"),
]
