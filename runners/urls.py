from __future__ import annotations

from django.urls import path

from runners import views

app_name = "runners"

urlpatterns = [
    path("runs/<int:run_id>/", views.detail, name="detail"),
    path("runs/<int:run_id>/cancel", views.cancel, name="cancel"),
    path("runs/<int:run_id>/bindings", views.binding_create, name="binding_create"),
    path("runs/<int:run_id>/bindings/<int:binding_id>/end", views.binding_end_view, name="binding_end"),
]
