"""A datetime column read as the API's ISO 8601 text, made by the database instead of Python.

A 500-row issue list reads five datetimes a row. Through the ORM each one is text that SQLite's
converter parses into a datetime, Django's converter then makes aware, and the serializer formats
back into text: 2,500 round trips that were about a third of the list's CPU. The text the API
answers (``isoformat()`` of the UTC value, ``Z`` for ``+00:00``, microseconds only when there are
some) is what the database already has, or nearly: :class:`IsoUtc` selects it so.

- SQLite: Django stores a UTC datetime as ``str()`` of its naive value, ``YYYY-MM-DD HH:MM:SS``
  with ``.ffffff`` only when the microseconds are not zero; the API's text is the same with ``T``
  for the space and a ``Z`` after.
- PostgreSQL: ``to_char`` of the UTC value with six-digit microseconds, ``.000000`` dropped.

NULL stays NULL. The column's value is not parsed, so the expression is only for columns that
Django writes (every ``DateTimeField`` of Mesa's models).
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError
from django.db.models import CharField, Func


class IsoUtc(Func):
    """``IsoUtc("created_at")``: the column as ``api.serializers.issues.iso()`` would write its value."""

    output_field = CharField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra_context: Any) -> Any:
        raise NotSupportedError(f"IsoUtc is written for SQLite and PostgreSQL, not {connection.vendor}")

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        return f"(REPLACE({column}, ' ', 'T') || 'Z')", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        text = f"""TO_CHAR({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
        return f"(REPLACE({text}, '.000000', '') || 'Z')", params
