from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "approvals"

urlpatterns = [
    path("approvals/", view("approvals.views.inbox"), name="inbox"),
    path("approvals/<int:approval_id>/resolve", view("approvals.views.resolve"), name="resolve"),
]
