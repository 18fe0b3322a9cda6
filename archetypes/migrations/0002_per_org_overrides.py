"""Move overrides written by an org's approved patch into that org's override directory.

Before this, approved patches wrote ``<override dir>/<slug>.md`` for every org. A file whose text is
exactly the text of an approved patch goes to that patch's org (the latest such patch wins); any other
file there was placed by the operator and stays shared. Files only move; nothing is deleted.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def move_patched_overrides(apps: Any, schema_editor: Any) -> None:
    # Imported here: a migration must not import app code at module level (it may change later).
    from archetypes.loader import SLUG_RE, override_dir

    root = override_dir()
    if not root.is_dir():
        return
    patch_model = apps.get_model("archetypes", "ArchetypePatch")
    for path in sorted(root.glob("*.md")):
        slug = path.stem
        if not SLUG_RE.match(slug):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        patch = (
            patch_model.objects.filter(archetype=slug, status="approved", proposed_text=text)
            .select_related("org")
            .order_by("-decided_at", "-id")
            .first()
        )
        if patch is None:
            continue
        target = root / patch.org.slug / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            path.replace(target)


class Migration(migrations.Migration):
    dependencies = [("archetypes", "0001_initial")]

    operations = [migrations.RunPython(move_patched_overrides, migrations.RunPython.noop)]
