from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "web"

urlpatterns = [
    path("", view("web.views.dashboard"), name="dashboard"),
    path("activity/", view("web.views.activity"), name="activity"),
    path("usage/", view("web.views.usage"), name="usage"),
    path("settings/", view("web.views.settings_page"), name="settings"),
    path("settings/runners/", view("web.runners_views.runners_page"), name="runners"),
    path("settings/runners/host-runs", view("web.host_runs_views.host_runs_toggle"), name="host_runs"),
    path("settings/runners/workers/add", view("web.worker_views.worker_add_view"), name="worker_add"),
    path(
        "settings/runners/workers/<slug:name>/<slug:action>",
        view("web.worker_views.worker_action"),
        name="worker_action",
    ),
    path("settings/labels/", view("web.admin_views.labels_page"), name="labels"),
    path("settings/keys/new", view("web.admin_views.key_new"), name="key_new"),
    path("orgs/new/", view("web.org_views.org_new"), name="org_new"),
    path("profile/", view("web.admin_views.profile"), name="profile"),
    # Before issues.urls (included after this file), whose issues/<key>/ would take "archived".
    path("issues/archived/", view("web.admin_views.issues_archived_page"), name="issues_archived"),
    path("issues/<str:key>/archive", view("web.admin_views.issue_archive_view"), name="issue_archive"),
    path("issues/<str:key>/restore", view("web.admin_views.issue_restore_view"), name="issue_restore"),
    path("chat/", view("web.chat_views.chat_home"), name="chat"),
    path("chat/<slug:slug>/", view("web.chat_views.chat_agent"), name="chat_agent"),
    path("chat/m/<int:pk>/issue", view("web.chat_views.message_to_issue"), name="chat_to_issue"),
    path("chat/m/<int:pk>/backlog", view("web.chat_views.message_to_backlog"), name="chat_to_backlog"),
    path("settings/export/", view("web.transfer_views.org_export_download"), name="org_export"),
    path("settings/import/", view("web.transfer_views.org_import_upload"), name="org_import"),
    path("setup/fallback", view("web.views.setup_fallback"), name="setup_fallback"),
    path("nav/approvals-badge", view("web.views.approvals_badge"), name="approvals_badge"),
    path("markdown/preview", view("web.editing.markdown_preview"), name="markdown_preview"),
    path("mentions", view("web.editing.mentions"), name="mentions"),
    path("org/switch", view("web.views.switch_org"), name="switch"),
    path("login/", view("web.views.login_view"), name="login"),
    path("login/local", view("web.views.local_login"), name="local_login"),
    path("logout/", view("web.views.logout_view"), name="logout"),
]
