"""Wiki page, revision and search-hit shapes."""

from __future__ import annotations

from rest_framework import serializers

from api.fields import StrictCharField, StrictInput, StrictIntegerField
from wiki.services import MAX_CONTENT


class WikiPageListItemOutput(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    revision = serializers.IntegerField(help_text="Send it back as base_revision when you edit.")
    updated_by = serializers.CharField(source="updated_by_label")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WikiPageOutput(WikiPageListItemOutput):
    content = serializers.CharField(help_text="Markdown.")
    created_by = serializers.CharField(source="created_by_label")


class WikiRevisionOutput(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    content = serializers.CharField()
    author = serializers.CharField(source="author_label")
    created_at = serializers.DateTimeField()


class WikiSearchHitOutput(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    snippet = serializers.CharField(help_text="Matched text with the matches wrapped in ** **.")
    score = serializers.FloatField(help_text="Higher is better: full-text relevance (0.5..1) + fuzzy match (0..1).")
    updated_at = serializers.DateTimeField()


class WikiPageCreateInput(StrictInput):
    title = StrictCharField(max_length=200)
    content = StrictCharField(
        required=False, allow_blank=True, max_length=MAX_CONTENT, default="", trim_whitespace=False
    )
    slug = StrictCharField(
        required=False, allow_blank=True, max_length=200, default="", help_text="Defaults to the title, slugified."
    )


class WikiPageUpdateInput(StrictInput):
    title = StrictCharField(required=False, max_length=200)
    content = StrictCharField(required=False, allow_blank=True, max_length=MAX_CONTENT, trim_whitespace=False)
    base_revision = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=2**31,
        help_text="The revision you started from; if the page moved on meanwhile you get a 409 stale.",
    )
