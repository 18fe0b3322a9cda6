from __future__ import annotations

from django.urls import path

from runners import views

app_name = "runners"

urlpatterns = [
    path("runs/<int:run_id>/", views.detail, name="detail"),
    path("runs/<int:run_id>/cancel", views.cancel, name="cancel"),
]
