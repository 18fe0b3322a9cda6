from __future__ import annotations

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("new/", views.channel_new, name="new"),
    path("log/", views.delivery_log_view, name="log"),
    path("<int:pk>/", views.channel_edit, name="edit"),
    path("<int:pk>/delete/", views.channel_remove, name="delete"),
    path("<int:pk>/test/", views.channel_test, name="test"),
]
