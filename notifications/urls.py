from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "notifications"

urlpatterns = [
    path("", view("notifications.views.settings_page"), name="settings"),
    path("new/", view("notifications.views.channel_new"), name="new"),
    path("log/", view("notifications.views.delivery_log_view"), name="log"),
    path("<int:pk>/", view("notifications.views.channel_edit"), name="edit"),
    path("<int:pk>/delete/", view("notifications.views.channel_remove"), name="delete"),
    path("<int:pk>/test/", view("notifications.views.channel_test"), name="test"),
]
