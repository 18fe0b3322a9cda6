"""Archetype overrides: the org's approved patches, one markdown file each (``archetypes/<slug>.md``)."""

from __future__ import annotations

from archetypes.loader import SLUG_RE, org_override_dir
from orgs.models import Org
from transfer.registry import Bundle, ImportContext

NAME = "archetypes"
PREFIX = "archetypes/"


def export(org: Org, bundle: Bundle) -> None:
    directory = org_override_dir(org)
    if directory.is_dir():
        for path in sorted(directory.glob("*.md")):
            if SLUG_RE.match(path.stem):
                bundle[f"{PREFIX}{path.name}"] = path.read_text(encoding="utf-8")


def load(ctx: ImportContext) -> None:
    directory = org_override_dir(ctx.org)
    for name, text in sorted(ctx.bundle.items()):
        if not name.startswith(PREFIX) or not name.endswith(".md"):
            continue
        slug = name[len(PREFIX) : -3]
        if not SLUG_RE.match(slug):
            continue
        path = directory / f"{slug}.md"
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        ctx.change(f"{'update' if path.is_file() else 'create'} archetype override {slug}")
        # Files are not in the database transaction: a dry run must not write them at all.
        if not ctx.dry_run:
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
