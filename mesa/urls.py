from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from orgs.lazy_views import api_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # The OpenAPI 3 schema and readable docs, served without any CDN (drf-spectacular-sidecar).
    path("api/schema/", api_view("drf_spectacular.views.SpectacularAPIView"), name="api-schema"),
    path("api/docs/", api_view("drf_spectacular.views.SpectacularSwaggerView", url_name="api-schema"), name="api-docs"),
    path("", include("web.urls_live")),
    path("settings/notifications/", include("notifications.urls")),
    path("", include("hooks.urls")),
    path("", include("web.urls")),
    path("", include("issues.urls")),
    path("", include("agents.urls")),
    path("", include("runners.urls")),
    path("", include("blocks.urls")),
    path("", include("approvals.urls")),
    path("", include("archetypes.urls")),
    path("", include("learning.urls")),
    path("", include("wiki.urls")),
    path("", include("chat.urls")),
]
