from __future__ import annotations

from api.urls_core import urlpatterns as core
from api.urls_more import urlpatterns as more

urlpatterns = [*core, *more]
