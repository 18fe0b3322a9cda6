from __future__ import annotations

from django.urls import URLPattern, URLResolver

# Each noun's endpoints are added here as they are built (see api/views/).
urlpatterns: list[URLPattern | URLResolver] = []
