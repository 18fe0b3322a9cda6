from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "wiki"

urlpatterns = [
    path("wiki/", view("wiki.views.page_list"), name="list"),
    path("wiki/new", view("wiki.views.create"), name="create"),
    path("wiki/<slug:slug>/", view("wiki.views.page"), name="page"),
    path("wiki/<slug:slug>/edit", view("wiki.views.edit"), name="edit"),
    path("wiki/<slug:slug>/history", view("wiki.views.history"), name="history"),
    path("wiki/<slug:slug>/delete", view("wiki.views.delete"), name="delete"),
    path("wiki/<slug:slug>/restore", view("wiki.views.restore"), name="restore"),
]
