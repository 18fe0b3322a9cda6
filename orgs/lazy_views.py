"""URL routes whose views are imported on their first request, not when the URLconf loads.

Loading the URLconf imported every view module, and with them DRF, drf-spectacular, the sandboxes and the
docker SDK, before the first page could answer: about a sixth of the start-up. Here a route names its view
by dotted path. Reversing a URL never imports the view; resolving one imports only the view that matched.

What Django and DRF read off a view before calling it is declared here instead of read from the view:
``csrf_exempt`` (every DRF ``APIView`` is exempt and does its own CSRF check for session logins; a
function view marked ``@csrf_exempt`` must say so in its route) and, for API views, ``cls`` and
``initkwargs`` (drf-spectacular's schema walks them; reading them imports the view). Only sync views:
an ``async def`` view is routed directly (Django picks the calling convention from the function itself).
"""

from __future__ import annotations

import inspect
import sys
import threading
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

# One lock for every import deferred to first use in this process (views here, and what apps register by
# name: appliers, periodic checks, the API cheat sheet): two threads never run two such imports at once, so
# they cannot deadlock on each other's module locks, and a first use waits for an import under way.
_lock = threading.RLock()


def load_by_name(dotted: str) -> Any:
    """``import_string(dotted)``, under the process's one lock for deferred imports (when not imported yet)."""
    if dotted.rpartition(".")[0] in sys.modules:  # loaded already: no lock needed
        return import_string(dotted)
    with _lock:
        return import_string(dotted)


class LazyView:
    def __init__(self, dotted: str, *, initkwargs: dict[str, Any] | None = None, csrf_exempt: bool = False) -> None:
        module, _, name = dotted.rpartition(".")
        # What Django's URLPattern.lookup_str and error pages name the view by, without importing it.
        self.__module__, self.__name__, self.__qualname__ = module, name, name
        self.dotted = dotted
        self.as_view = initkwargs is not None
        self.init = initkwargs or {}
        self.csrf_exempt = csrf_exempt
        self._view: Callable[..., HttpResponseBase] | None = None

    def load(self) -> Callable[..., HttpResponseBase]:
        view = self._view
        if view is None:
            with _lock:  # two first requests at once import it once
                if self._view is None:
                    target = load_by_name(self.dotted)
                    loaded = target.as_view(**self.init) if self.as_view else target
                    if inspect.iscoroutinefunction(loaded):
                        raise TypeError(f"{self.dotted} is async: route it directly, not through LazyView")
                    if bool(getattr(loaded, "csrf_exempt", False)) != self.csrf_exempt:
                        raise TypeError(f"{self.dotted}: its route must declare csrf_exempt={not self.csrf_exempt}")
                    self._view = loaded
                view = self._view
        assert view is not None
        return view

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return self.load()(request, *args, **kwargs)

    @property
    def cls(self) -> Any:
        """The API view's class (drf-spectacular's schema generation reads it): imports the view."""
        return getattr(self.load(), "cls", None)

    @property
    def initkwargs(self) -> dict[str, Any]:
        return dict(getattr(self.load(), "initkwargs", {}))

    def __repr__(self) -> str:
        return f"<LazyView {self.dotted}>"


def view(dotted: str, *, csrf_exempt: bool = False) -> LazyView:
    """A function view, e.g. ``view("issues.views.board")``."""
    return LazyView(dotted, csrf_exempt=csrf_exempt)


def api_view(dotted: str, **initkwargs: Any) -> LazyView:
    """A class-based DRF view, e.g. ``api_view("api.views.issues.IssueApi")`` (``as_view(**initkwargs)``)."""
    return LazyView(dotted, initkwargs=initkwargs, csrf_exempt=True)
