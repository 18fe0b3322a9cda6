from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "agents"

urlpatterns = [
    path("agents/", view("agents.views.agent_list"), name="list"),
    path("agents/chart/", view("agents.views.org_chart"), name="chart"),
    path("agents/<slug:slug>/", view("agents.views.detail"), name="detail"),
    path("agents/<slug:slug>/edit", view("agents.views.edit"), name="edit"),
    path("agents/<slug:slug>/<str:verb>", view("agents.views.action"), name="action"),
]
