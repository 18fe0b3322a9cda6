"""The wiki: ``wiki/pages.toml`` (page fields), ``wiki/<slug>.md`` (current text) and
``wiki/<slug>.revisions.jsonl`` (every revision). Pages match by slug, revisions by number; revisions
keep their authors and dates, so they are restored as rows rather than replayed as new edits."""

from __future__ import annotations

from typing import Any

from orgs.models import Org
from transfer.nouns.common import parse_ts, read_jsonl, read_toml, ts, write_jsonl, write_toml
from transfer.registry import Bundle, ImportContext
from wiki.models import WikiPage, WikiRevision
from wiki.search import search_index

NAME = "wiki"
DIR = "wiki/"
PAGES = "wiki/pages.toml"
LABELS = ("title", "revision", "created_by_label", "updated_by_label", "deleted_by_label")


def export(org: Org, bundle: Bundle) -> None:
    pages = WikiPage.objects.filter(org=org).order_by("slug")
    rows = []
    for page in pages:
        rows.append(
            {
                "slug": page.slug,
                **{f: getattr(page, f) for f in LABELS},
                "deleted_at": ts(page.deleted_at),
                "created_at": ts(page.created_at),
            }
        )
        bundle[f"{DIR}{page.slug}.md"] = page.content
        revisions = page.revisions.select_related("author_agent").order_by("number")
        write_jsonl(
            bundle,
            f"{DIR}{page.slug}.revisions.jsonl",
            (
                {
                    "number": r.number,
                    "title": r.title,
                    "author": r.author_label,
                    "author_agent": r.author_agent.slug if r.author_agent else None,
                    "created_at": ts(r.created_at),
                    "content": r.content,
                }
                for r in revisions
            ),
        )
    write_toml(bundle, PAGES, {"page": rows})


def load(ctx: ImportContext) -> None:
    agents = ctx.refs.get("agents", {})
    by_slug = {p.slug: p for p in WikiPage.objects.filter(org=ctx.org)}
    for row in read_toml(ctx.bundle, PAGES).get("page", []):
        slug = row["slug"]
        values: dict[str, Any] = {
            **{f: row.get(f, "") for f in LABELS},
            "content": ctx.bundle.get(f"{DIR}{slug}.md", ""),
            "deleted_at": parse_ts(row.get("deleted_at")),
        }
        page = by_slug.get(slug)
        if page is None:
            page = WikiPage.objects.create(org=ctx.org, slug=slug, **values)
            search_index(page)
            ctx.change(f"create wiki page {slug}")
        else:
            changed = sorted(k for k, v in values.items() if getattr(page, k) != v)
            if changed:
                WikiPage.objects.filter(pk=page.pk).update(**{k: values[k] for k in changed})
                page.refresh_from_db()
                search_index(page)
                ctx.change(f"update wiki page {slug}: {', '.join(changed)}")
        created = parse_ts(row.get("created_at"))
        if created is not None and page.created_at != created:
            WikiPage.objects.filter(pk=page.pk).update(created_at=created)
        have = set(page.revisions.values_list("number", flat=True))
        added = 0
        for rev in read_jsonl(ctx.bundle, f"{DIR}{slug}.revisions.jsonl"):
            if rev["number"] in have:
                continue
            revision = WikiRevision.objects.create(
                page=page,
                number=rev["number"],
                title=rev.get("title", ""),
                content=rev.get("content", ""),
                author_agent=agents.get(rev.get("author_agent") or ""),
                author_label=rev.get("author", ""),
            )
            when = parse_ts(rev.get("created_at"))
            if when is not None:
                WikiRevision.objects.filter(pk=revision.pk).update(created_at=when)
            added += 1
        if added:
            ctx.change(f"add {added} revision(s) to wiki page {slug}")
