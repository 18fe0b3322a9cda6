from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "learning"

urlpatterns = [
    path("observability/", view("learning.views.observability"), name="observability"),
    path("skills/", view("learning.views.skills"), name="skills"),
    path("policies/", view("learning.views.policies"), name="policies"),
    path("audits/", view("learning.views.audits"), name="audits"),
]
