from __future__ import annotations

from django.urls import path

from web import admin_views, chat_views, editing, host_runs_views, org_views, transfer_views, views, worker_views

app_name = "web"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("activity/", views.activity, name="activity"),
    path("usage/", views.usage, name="usage"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/runners/", views.runners_page, name="runners"),
    path("settings/runners/host-runs", host_runs_views.host_runs_toggle, name="host_runs"),
    path("settings/runners/workers/add", worker_views.worker_add_view, name="worker_add"),
    path("settings/runners/workers/<slug:name>/<slug:action>", worker_views.worker_action, name="worker_action"),
    path("settings/labels/", admin_views.labels_page, name="labels"),
    path("settings/keys/new", admin_views.key_new, name="key_new"),
    path("orgs/new/", org_views.org_new, name="org_new"),
    path("profile/", admin_views.profile, name="profile"),
    # Before issues.urls (included after this file), whose issues/<key>/ would take "archived".
    path("issues/archived/", admin_views.issues_archived_page, name="issues_archived"),
    path("issues/<str:key>/archive", admin_views.issue_archive_view, name="issue_archive"),
    path("issues/<str:key>/restore", admin_views.issue_restore_view, name="issue_restore"),
    path("chat/", chat_views.chat_home, name="chat"),
    path("chat/<slug:slug>/", chat_views.chat_agent, name="chat_agent"),
    path("chat/m/<int:pk>/issue", chat_views.message_to_issue, name="chat_to_issue"),
    path("chat/m/<int:pk>/backlog", chat_views.message_to_backlog, name="chat_to_backlog"),
    path("settings/export/", transfer_views.org_export_download, name="org_export"),
    path("settings/import/", transfer_views.org_import_upload, name="org_import"),
    path("setup/fallback", views.setup_fallback, name="setup_fallback"),
    path("nav/approvals-badge", views.approvals_badge, name="approvals_badge"),
    path("markdown/preview", editing.markdown_preview, name="markdown_preview"),
    path("mentions", editing.mentions, name="mentions"),
    path("org/switch", views.switch_org, name="switch"),
    path("login/", views.login_view, name="login"),
    path("login/local", views.local_login, name="local_login"),
    path("logout/", views.logout_view, name="logout"),
]
