from __future__ import annotations

from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("channels/", views.channel_list, name="list"),
    path("channels/new", views.create, name="create"),
    path("channels/<str:name>/", views.channel_list, name="channel"),
    path("channels/<str:name>/post", views.post, name="post"),
]
