from __future__ import annotations

from django.urls import path

from issues import board_views, views

app_name = "issues"

urlpatterns = [
    path("issues/", views.board, name="board"),
    path("issues/new", views.create, name="create"),
    path("issues/backlog", views.backlog, name="backlog"),
    path("issues/reorder", views.reorder, name="reorder"),
    path("issues/bulk", board_views.bulk, name="bulk"),
    path("issues/views/save", board_views.view_save, name="view_save"),
    path("issues/views/<int:pk>/delete", board_views.view_delete, name="view_delete"),
    path("issues/<str:key>/", views.detail, name="detail"),
    path("issues/<str:key>/edit", views.edit, name="edit"),
    path("issues/<str:key>/move", views.move, name="move"),
    path("issues/<str:key>/comment", views.comment, name="comment"),
    path("issues/<str:key>/relate", views.relate, name="relate"),
    path("issues/<str:key>/unrelate", views.unrelate, name="unrelate"),
    path("issues/<str:key>/branch/<str:action>", views.branch, name="branch"),
]
