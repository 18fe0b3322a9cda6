from __future__ import annotations

from django.urls import path

from web import transfer_views, views

app_name = "web"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("activity/", views.activity, name="activity"),
    path("usage/", views.usage, name="usage"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/runners/", views.runners_page, name="runners"),
    path("settings/export/", transfer_views.org_export_download, name="org_export"),
    path("settings/import/", transfer_views.org_import_upload, name="org_import"),
    path("setup/fallback", views.setup_fallback, name="setup_fallback"),
    path("nav/approvals-badge", views.approvals_badge, name="approvals_badge"),
    path("org/switch", views.switch_org, name="switch"),
    path("login/", views.login_view, name="login"),
    path("login/local", views.local_login, name="local_login"),
    path("logout/", views.logout_view, name="logout"),
]
