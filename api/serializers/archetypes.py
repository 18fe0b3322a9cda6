"""Archetype (role text) and archetype patch shapes."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.fields import StrictCharField, StrictInput
from archetypes.loader import Archetype
from archetypes.models import ArchetypePatch, PatchStatus
from archetypes.services import MAX_TEXT


class ArchetypeOutput(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    source = serializers.ChoiceField(  # type: ignore[assignment]  # (the field, not Field.source)
        choices=["builtin", "override"], help_text="override = an approved patch (or a local file) replaces it."
    )


class ArchetypeDetailOutput(ArchetypeOutput):
    text = serializers.CharField(help_text="The whole markdown file, front matter included.")


def archetype_out(archetype: Archetype, *, with_text: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "slug": archetype.slug,
        "title": archetype.title,
        "summary": archetype.summary,
        "source": archetype.source,
    }
    if with_text:
        out["text"] = archetype.text
    return out


class ArchetypePatchOutput(serializers.Serializer):
    id = serializers.IntegerField()
    archetype = serializers.CharField()
    status = serializers.ChoiceField(choices=PatchStatus.choices)
    reason = serializers.CharField()
    proposed_text = serializers.CharField()
    proposed_by = serializers.CharField(source="proposed_by_label")
    decided_by = serializers.CharField(source="decided_by_label")
    decision_comment = serializers.CharField()
    approval = serializers.IntegerField(
        allow_null=True, help_text="The approval a human resolves to apply or reject the patch."
    )
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


def archetype_patch_out(patch: ArchetypePatch) -> dict[str, Any]:
    """Needs ``approvals`` prefetched (or costs one query)."""
    approvals = list(patch.approvals.all())
    patch.approval = approvals[0].pk if approvals else None  # type: ignore[attr-defined]
    return dict(ArchetypePatchOutput(patch).data)


class ArchetypePatchCreateInput(StrictInput):
    archetype = StrictCharField(max_length=60, help_text="Archetype slug, e.g. qa or backend.")
    proposed_text = StrictCharField(
        max_length=MAX_TEXT, trim_whitespace=False, help_text="The full new text of the archetype file."
    )
    reason = StrictCharField(required=False, allow_blank=True, max_length=20_000, default="")
