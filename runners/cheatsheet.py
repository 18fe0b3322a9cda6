"""The hook through which the prompt gets its API cheat sheet.

The cheat sheet is generated from the API itself (its URL names and input serializers),
which lives in a higher layer than the runners: ``api`` registers the provider in its
``AppConfig.ready`` and :func:`runners.prompt.prompt_build` calls :func:`cheat_sheet`.
Without a provider (the API app not installed) the prompt says where the schema is.
"""

from __future__ import annotations

from collections.abc import Callable

from orgs.lazy_views import load_by_name

CheatSheetProvider = Callable[..., str]

# The provider or its dotted path: the API's serializers are imported when a prompt first needs the sheet.
_provider: CheatSheetProvider | str | None = None


def cheat_sheet_provider_set(provider: CheatSheetProvider | str | None) -> None:
    """Register ``provider(*, ceo: bool) -> str`` or its dotted path (the API does, at start-up); None
    unregisters."""
    global _provider
    _provider = provider


def cheat_sheet(*, ceo: bool) -> str:
    """The API cheat sheet for an agent (the CEO's adds the roster and hiring)."""
    if _provider is None:
        return "Mesa API: $MESA_API_URL with 'Authorization: Bearer $MESA_API_KEY' (never print the key)."
    provider: CheatSheetProvider = load_by_name(_provider) if isinstance(_provider, str) else _provider
    return provider(ceo=ceo)
