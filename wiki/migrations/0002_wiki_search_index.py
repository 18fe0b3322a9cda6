"""The full-text index of wiki pages (see wiki/search.py).

SQLite: an FTS5 table ``wiki_page_fts`` (rowid = page id) filled from the existing
pages; wiki.services keeps it in sync. PostgreSQL: a GIN index over the tsvector
expression that wiki.search queries. Other databases: nothing (fuzzy search only).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

PG_INDEX = (
    "CREATE INDEX IF NOT EXISTS wiki_page_fts_gin ON wiki_wikipage USING GIN (("
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', replace(coalesce(slug, ''), '-', ' ')), 'B') || "
    "setweight(to_tsvector('simple', coalesce(content, '')), 'C')))"
)


def create_index(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS wiki_page_fts USING fts5("
            "title, slug, content, org_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
        )
        schema_editor.execute(
            "INSERT INTO wiki_page_fts (rowid, title, slug, content, org_id) "
            "SELECT id, title, slug, content, org_id FROM wiki_wikipage"
        )
    elif vendor == "postgresql":
        schema_editor.execute(PG_INDEX)


def drop_index(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS wiki_page_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS wiki_page_fts_gin")


class Migration(migrations.Migration):
    dependencies = [("wiki", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
