from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "runners"

urlpatterns = [
    path("runs/<int:run_id>/", view("runners.views.detail"), name="detail"),
    path("runs/<int:run_id>/cancel", view("runners.views.cancel"), name="cancel"),
    path("runs/<int:run_id>/bindings", view("runners.views.binding_create"), name="binding_create"),
    path("runs/<int:run_id>/bindings/<int:binding_id>/end", view("runners.views.binding_end_view"), name="binding_end"),
]
