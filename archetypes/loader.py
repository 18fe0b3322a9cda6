"""Lists and reads role archetypes: markdown files, override directory first.

Built-in archetypes live beside this module (``archetypes/<slug>.md``). Files in
the override directory (``MESA_ARCHETYPES_DIR``, default ``var/archetypes``)
win over built-in ones with the same slug and may add new roles. Overrides are per
org (``<override dir>/<org slug>/<slug>.md``, written by approved patches): one org's
patch never changes another org's prompts. Files directly in the override directory
are the operator's and apply to every org, below the org's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from orgs.models import Org

BUILTIN_DIR = Path(__file__).resolve().parent
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


@dataclass(frozen=True)
class Archetype:
    slug: str
    title: str
    summary: str
    body: str  # the markdown after the front matter
    text: str  # the whole file
    source: str  # "override" or "builtin"
    path: Path


def override_dir() -> Path:
    configured = settings.MESA_ARCHETYPES_DIR
    return Path(configured) if configured else Path(settings.BASE_DIR) / "var" / "archetypes"


def org_override_dir(org: Org) -> Path:
    """Where approved patches of ``org`` live; no other org reads it."""
    return override_dir() / org.slug


def _dirs(org: Org | None) -> list[tuple[str, Path]]:
    dirs = [("override", override_dir()), ("builtin", BUILTIN_DIR)]
    return [("override", org_override_dir(org)), *dirs] if org is not None else dirs


def parse(text: str) -> tuple[dict[str, str], str]:
    """Split ``---`` front matter (simple ``key: value`` lines) from the markdown body."""
    meta: dict[str, str] = {}
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            for line in text[4:end].splitlines():
                key, sep, value = line.partition(":")
                if sep:
                    meta[key.strip()] = value.strip()
            text = text[end + 4 :].lstrip("\n")
    return meta, text


def _load(slug: str, source: str, path: Path) -> Archetype:
    # A hand-edited override in another encoding must not take every archetype page down with it.
    text = path.read_text(encoding="utf-8", errors="replace")
    meta, body = parse(text)
    title = meta.get("title") or slug.replace("-", " ").title()
    return Archetype(
        slug=slug, title=title, summary=meta.get("summary", ""), body=body, text=text, source=source, path=path
    )


def archetype_path(slug: str, org: Org | None = None) -> tuple[str, Path] | None:
    if not SLUG_RE.match(slug or ""):
        return None
    for source, directory in _dirs(org):
        path = directory / f"{slug}.md"
        if path.is_file():
            return source, path
    return None


def archetype_exists(slug: str, org: Org | None = None) -> bool:
    return archetype_path(slug, org) is not None


def archetype_get(slug: str, org: Org | None = None) -> Archetype | None:
    """The archetype as ``org`` sees it (its own override first); without an org, the shared view."""
    found = archetype_path(slug, org)
    return _load(slug, *found) if found else None


def builtin_text(slug: str) -> str | None:
    path = BUILTIN_DIR / f"{slug}.md"
    return path.read_text(encoding="utf-8") if SLUG_RE.match(slug or "") and path.is_file() else None


def archetype_list(org: Org | None = None) -> list[Archetype]:
    """Every archetype ``org`` sees, each slug once (the override copy when there is one), sorted by slug."""
    found: dict[str, Archetype] = {}
    for source, directory in _dirs(org):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.md")):
            slug = path.stem
            if SLUG_RE.match(slug) and slug not in found:
                found[slug] = _load(slug, source, path)
    return [found[s] for s in sorted(found)]
