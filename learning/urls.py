from __future__ import annotations

from django.urls import path

from learning import views

app_name = "learning"

urlpatterns = [
    path("observability/", views.observability, name="observability"),
    path("skills/", views.skills, name="skills"),
    path("policies/", views.policies, name="policies"),
    path("audits/", views.audits, name="audits"),
]
