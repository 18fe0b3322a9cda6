from __future__ import annotations

from django.urls import path

from wiki import views

app_name = "wiki"

urlpatterns = [
    path("wiki/", views.page_list, name="list"),
    path("wiki/new", views.create, name="create"),
    path("wiki/<slug:slug>/", views.page, name="page"),
    path("wiki/<slug:slug>/edit", views.edit, name="edit"),
    path("wiki/<slug:slug>/history", views.history, name="history"),
    path("wiki/<slug:slug>/delete", views.delete, name="delete"),
    path("wiki/<slug:slug>/restore", views.restore, name="restore"),
]
