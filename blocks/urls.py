from __future__ import annotations

from django.urls import path

from blocks import views

app_name = "blocks"

urlpatterns = [
    path("blocks/", views.block_list, name="list"),
    path("blocks/<int:block_id>/", views.block_detail, name="detail"),
    path("blocks/<int:block_id>/move", views.block_move, name="move"),
    path("blocks/<int:block_id>/edit", views.block_edit, name="edit"),
    path("blocks/<int:block_id>/issues", views.block_add_issues, name="add_issues"),
    path("strategy/", views.strategy, name="strategy"),
]
