from __future__ import annotations

from django.urls import path

from agents import views

app_name = "agents"

urlpatterns = [
    path("agents/", views.agent_list, name="list"),
    path("agents/chart/", views.org_chart, name="chart"),
    path("agents/<slug:slug>/", views.detail, name="detail"),
    path("agents/<slug:slug>/edit", views.edit, name="edit"),
    path("agents/<slug:slug>/<str:verb>", views.action, name="action"),
]
