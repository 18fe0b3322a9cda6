from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "chat"

urlpatterns = [
    path("channels/", view("chat.views.channel_list"), name="list"),
    path("channels/new", view("chat.views.create"), name="create"),
    path("channels/<str:name>/", view("chat.views.channel_list"), name="channel"),
    path("channels/<str:name>/post", view("chat.views.post"), name="post"),
]
