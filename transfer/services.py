"""Export an org to readable files and import them back (``manage.py org``, Settings → Export / import).

The bundle is a mapping of relative path → text: ``org.toml`` here, then each noun's files (see
``transfer.registry``). Secrets never enter it: agent env values and integration tokens stay behind,
their names are listed so they can be filled in after the import.
"""

from __future__ import annotations

import io
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.db import transaction

from orgs.actors import Actor
from orgs.errors import InvalidInput
from orgs.models import Org
from orgs.services import activity_record, org_create, org_update
from transfer import toml
from transfer.registry import Bundle, ImportContext, all_nouns

ORG_FILE = "org.toml"
FORMAT = 1
# Org settings that are configuration, not secrets (tokens live in channels and env, never here).
SETTINGS_KEYS = ("features", "ship")
MAX_FILES = 100_000


def org_export(*, org: Org) -> Bundle:
    settings = {k: org.settings[k] for k in SETTINGS_KEYS if org.settings.get(k)}
    bundle: Bundle = {
        ORG_FILE: toml.dumps(
            {
                "format": FORMAT,
                "org": {"name": org.name, "slug": org.slug, "issue_prefix": org.issue_prefix},
                "settings": settings,
            }
        )
    }
    for noun in all_nouns():
        noun.export(org, bundle)
    return bundle


@dataclass
class ImportResult:
    slug: str
    dry_run: bool
    created_org: bool
    changes: list[str] = field(default_factory=list)
    to_fill_in: list[str] = field(default_factory=list)


def org_import(*, actor: Actor, bundle: Bundle, as_slug: str = "", dry_run: bool = False) -> ImportResult:
    """Create or update the org the bundle describes; with ``dry_run`` report the changes and keep none."""
    if ORG_FILE not in bundle:
        raise InvalidInput(f"This is not an org export: {ORG_FILE} is missing.", field="bundle")
    try:
        head = tomllib.loads(bundle[ORG_FILE])
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{ORG_FILE} is not valid TOML: {exc}", field="bundle") from exc
    if head.get("format") != FORMAT:
        raise InvalidInput(f"Unknown export format {head.get('format')!r} (this Mesa reads {FORMAT}).", field="bundle")
    info: dict[str, Any] = head.get("org", {})
    slug = as_slug or info.get("slug", "")
    with transaction.atomic():
        org = Org.objects.filter(slug=slug).first()
        created = org is None
        if org is None:
            org = org_create(
                actor=actor, name=info.get("name") or slug, slug=slug, issue_prefix=info.get("issue_prefix") or "MESA"
            )
        result = ImportResult(slug=org.slug, dry_run=dry_run, created_org=created)
        ctx = ImportContext(org=org, bundle=bundle, actor=actor, dry_run=dry_run)
        if created:
            ctx.change(f"create org {org.slug}")
        _load_org(ctx, info, head.get("settings", {}))
        for noun in all_nouns():
            noun.load(ctx)
        result.changes, result.to_fill_in = ctx.changes, ctx.to_fill_in
        if ctx.changes:
            activity_record(org=org, actor=actor, verb="imported", obj=org, details={"changes": len(ctx.changes)})
        if dry_run:
            # Everything above ran for real so the report is exact; none of it is kept.
            transaction.set_rollback(True)
    return result


def _load_org(ctx: ImportContext, info: dict[str, Any], settings: dict[str, Any]) -> None:
    org = ctx.org
    before = (org.name, org.issue_prefix, {k: org.settings.get(k) for k in SETTINGS_KEYS})
    org_update(
        actor=ctx.actor,
        org=org,
        name=info.get("name"),
        issue_prefix=info.get("issue_prefix"),
        features=settings.get("features"),
        ship=settings.get("ship") if "ship" in settings else None,
    )
    org.refresh_from_db()
    if (org.name, org.issue_prefix, {k: org.settings.get(k) for k in SETTINGS_KEYS}) != before:
        ctx.change(f"update org {org.slug}")


# Files on disk and in a zip.


def _safe(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise InvalidInput(f"Refusing the path {name!r} in an export.", field="bundle")
    return str(path)


def bundle_write(bundle: Bundle, directory: Path) -> None:
    for name, text in bundle.items():
        target = directory / _safe(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def bundle_read(directory: Path) -> Bundle:
    if not (directory / ORG_FILE).is_file():
        raise InvalidInput(f"{directory} holds no {ORG_FILE}: not an org export.", field="dir")
    return {
        path.relative_to(directory).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def bundle_zip(bundle: Bundle) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(bundle):
            archive.writestr(_safe(name), bundle[name])
    return buffer.getvalue()


def bundle_unzip(data: bytes) -> Bundle:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [i for i in archive.infolist() if not i.is_dir()]
            if len(names) > MAX_FILES:
                raise InvalidInput("Too many files in that archive.", field="bundle")
            return {_safe(i.filename): archive.read(i).decode("utf-8") for i in names}
    except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise InvalidInput("That file is not an org export (a zip of text files).", field="bundle") from exc
