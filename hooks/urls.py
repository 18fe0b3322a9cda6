from __future__ import annotations

from django.urls import path

from hooks import views

app_name = "hooks"

urlpatterns = [
    path("hooks/<str:org>/<str:source>/<str:public_id>", views.receive_view, name="receive"),
    path("logs/", views.logs_page, name="logs"),
    path("settings/hooks/", views.settings_page, name="settings"),
    path("settings/hooks/new/", views.hook_new, name="new"),
    path("settings/hooks/<int:pk>/rotate/", views.hook_rotate, name="rotate"),
    path("settings/hooks/<int:pk>/toggle/", views.hook_toggle, name="toggle"),
    path("settings/hooks/rules/new/", views.rule_new, name="rule-new"),
    path("settings/hooks/routines/<int:pk>/run/", views.routine_run, name="routine-run"),
    path("settings/hooks/deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="redeliver"),
]
