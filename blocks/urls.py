from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "blocks"

urlpatterns = [
    path("blocks/", view("blocks.views.block_list"), name="list"),
    path("blocks/<int:block_id>/", view("blocks.views.block_detail"), name="detail"),
    path("blocks/<int:block_id>/move", view("blocks.views.block_move"), name="move"),
    path("blocks/<int:block_id>/edit", view("blocks.views.block_edit"), name="edit"),
    path("blocks/<int:block_id>/issues", view("blocks.views.block_add_issues"), name="add_issues"),
    path("strategy/", view("blocks.views.strategy"), name="strategy"),
]
