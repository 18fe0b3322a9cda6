"""Permission-scoped reads of wiki pages."""

from __future__ import annotations

from orgs.actors import Actor
from orgs.errors import NotFound
from orgs.models import Org
from wiki.models import WikiPage


def wiki_page_get_for(*, actor: Actor, org: Org, slug: str, deleted: bool = False) -> WikiPage:
    """The live page ``slug`` of ``org`` (anyone in the org may read it), else NotFound.

    ``deleted=True`` finds a deleted page instead (to restore it); a live one is then NotFound.
    """
    slug = (slug or "").strip().lower()
    page = None
    if actor.belongs_to(org) and slug:
        rows = WikiPage.objects.select_related("org").filter(org=org, slug=slug, deleted_at__isnull=not deleted)
        page = rows.first()
    if page is None:
        raise NotFound(f"There is no wiki page {slug!r}.")
    return page
