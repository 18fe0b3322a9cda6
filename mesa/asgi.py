"""ASGI entry point served by daphne (HTTP, SSE)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesa.settings")

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

# Plain daphne serves no static files; this keeps `make run` a single process
# without a separate web server.
application = ASGIStaticFilesHandler(get_asgi_application())
