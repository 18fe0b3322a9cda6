from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "issues"

urlpatterns = [
    path("issues/", view("issues.views.board"), name="board"),
    path("issues/new", view("issues.views.create"), name="create"),
    path("issues/backlog", view("issues.views.backlog"), name="backlog"),
    path("issues/reorder", view("issues.views.reorder"), name="reorder"),
    path("issues/bulk", view("issues.board_views.bulk"), name="bulk"),
    path("issues/views/save", view("issues.board_views.view_save"), name="view_save"),
    path("issues/views/<int:pk>/delete", view("issues.board_views.view_delete"), name="view_delete"),
    path("issues/<str:key>/", view("issues.views.detail"), name="detail"),
    path("issues/<str:key>/edit", view("issues.views.edit"), name="edit"),
    path("issues/<str:key>/move", view("issues.views.move"), name="move"),
    path("issues/<str:key>/comment", view("issues.views.comment"), name="comment"),
    path("issues/<str:key>/relate", view("issues.views.relate"), name="relate"),
    path("issues/<str:key>/unrelate", view("issues.views.unrelate"), name="unrelate"),
    path("issues/<str:key>/branch/<str:action>", view("issues.views.branch"), name="branch"),
]
