"""Writes for wiki pages; every edit keeps a revision."""

from __future__ import annotations

import re
import unicodedata

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.selectors import is_ceo
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.services import activity_record, require_member
from orgs.unset import UNSET, Unset
from wiki.models import WikiPage, WikiRevision
from wiki.search import search_index, search_remove

MAX_CONTENT = 500_000
# Slugs that would collide with API routes (GET /api/v1/wiki/search); such pages get a suffix.
RESERVED_SLUGS = frozenset({"search"})


def wiki_slugify(title: str) -> str:
    """Accents folded (é → e), lowercase; every run of characters other than a-z and 0-9 becomes one '-'; trimmed."""
    folded = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:200]


def _revision(page: WikiPage, actor: Actor) -> WikiRevision:
    return WikiRevision.objects.create(
        page=page, number=page.revision, title=page.title, content=page.content, **actor.author_fields("author")
    )


def _publish(page: WikiPage, verb: str) -> None:
    event_publish(
        org=page.org, type=EventType.WIKI_UPDATED, data={"slug": page.slug, "title": page.title, "verb": verb}
    )


@transaction.atomic
def wiki_page_create(*, actor: Actor, org: Org, title: str, content: str = "", slug: str = "") -> WikiPage:
    require_member(actor, org.pk)
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput("A wiki page needs a title.", field="title")
    if len(title) > 200:
        raise InvalidInput("Titles are at most 200 characters.", field="title")
    if len(content or "") > MAX_CONTENT:
        raise InvalidInput(f"The content is longer than {MAX_CONTENT} characters.", field="content")
    slug = wiki_slugify(slug or title)
    if not slug:
        raise InvalidInput("The title must contain letters or digits to make a slug.", field="title")
    if slug in RESERVED_SLUGS:
        slug = f"{slug}-page"
    if WikiPage.objects.filter(org=org, slug=slug).exists():
        raise Conflict(f"A wiki page with the slug {slug!r} already exists.", code="duplicate", slug=slug)
    try:
        with transaction.atomic():
            page = WikiPage.objects.create(
                org=org,
                slug=slug,
                title=title,
                content=content or "",
                **actor.author_fields("created_by"),
                **actor.author_fields("updated_by"),
            )
    except IntegrityError as exc:
        raise Conflict(f"A wiki page with the slug {slug!r} already exists.", code="duplicate", slug=slug) from exc
    _revision(page, actor)
    search_index(page)
    activity_record(org=org, actor=actor, verb="created", obj=page, object_id=page.slug)
    _publish(page, "created")
    return page


@transaction.atomic
def wiki_page_update(
    *,
    actor: Actor,
    page: WikiPage,
    title: str | Unset = UNSET,
    content: str | Unset = UNSET,
    base_revision: int | None = None,
) -> WikiPage:
    """Edit a page, keeping the new text as a revision.

    With ``base_revision`` (the revision the editor started from) a concurrent
    edit is refused with Conflict (code ``stale``) instead of being overwritten.
    """
    require_member(actor, page.org_id)
    new_title = page.title if title is UNSET else " ".join((title or "").split())
    new_content = page.content if content is UNSET else (content or "")
    if not new_title:
        raise InvalidInput("A wiki page needs a title.", field="title")
    if len(new_title) > 200:
        raise InvalidInput("Titles are at most 200 characters.", field="title")
    if len(new_content) > MAX_CONTENT:
        raise InvalidInput(f"The content is longer than {MAX_CONTENT} characters.", field="content")
    if new_title == page.title and new_content == page.content:
        return page
    expected = page.revision if base_revision is None else base_revision
    updated = WikiPage.objects.filter(pk=page.pk, revision=expected).update(
        title=new_title,
        content=new_content,
        revision=expected + 1,
        **actor.author_fields("updated_by"),
    )
    if not updated:
        raise Conflict(
            f"{page.slug} was edited by someone else meanwhile; reload it and apply your change again.",
            code="stale",
        )
    page.refresh_from_db()
    _revision(page, actor)
    search_index(page)
    activity_record(org=page.org, actor=actor, verb="edited", obj=page, object_id=page.slug)
    _publish(page, "edited")
    return page


def _require_may_delete(actor: Actor, page: WikiPage, verb: str) -> None:
    """Deleting and restoring a page is for the board, the org's CEO and the page's author."""
    require_member(actor, page.org_id)
    if actor.board:
        return
    agent = actor.agent
    if agent is not None and (is_ceo(agent) or page.created_by_agent_id == agent.pk):
        return
    raise Forbidden(f"Only the board, the CEO or its author may {verb} {page.slug}.", code="not_author")


@transaction.atomic
def wiki_page_delete(*, actor: Actor, page: WikiPage) -> None:
    """Soft delete: the page leaves lists and search; its revisions stay and ``wiki_page_restore`` brings it back."""
    _require_may_delete(actor, page, "delete")
    org, slug = page.org, page.slug
    done = WikiPage.objects.filter(pk=page.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), deleted_by_label=actor.label[:100]
    )
    if not done:
        raise Conflict(f"{slug} is already deleted.", code="deleted")
    page.refresh_from_db()
    activity_record(org=org, actor=actor, verb="deleted", obj=page, object_id=slug)
    search_remove(page.pk)
    event_publish(org=org, type=EventType.WIKI_UPDATED, data={"slug": slug, "verb": "deleted"})


@transaction.atomic
def wiki_page_restore(*, actor: Actor, page: WikiPage) -> WikiPage:
    """Bring a deleted page back, with the revision it had."""
    _require_may_delete(actor, page, "restore")
    if not WikiPage.objects.filter(pk=page.pk, deleted_at__isnull=False).update(deleted_at=None, deleted_by_label=""):
        raise Conflict(f"{page.slug} is not deleted.", code="not_deleted")
    page.refresh_from_db()
    search_index(page)
    activity_record(org=page.org, actor=actor, verb="restored", obj=page, object_id=page.slug)
    _publish(page, "restored")
    return page
