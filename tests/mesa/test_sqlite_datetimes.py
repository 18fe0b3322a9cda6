"""SQLite datetimes are read by the C parser, exactly as Django's own parser reads them."""

from __future__ import annotations

from datetime import UTC

import pytest
from django.db import connection
from django.db.backends.sqlite3.operations import DatabaseOperations as DjangoOperations
from django.utils.dateparse import parse_datetime

from issues.models import Issue
from mesa.backends.sqlite3.operations import read_datetime
from tests.factories import make_issue, make_org

STORED = [
    "2026-11-29 10:11:35.376000",
    "2026-11-29 10:11:35",
    "2026-02-03 04:05:06.000001",
    "2026-11-29 1:02:03",  # not ISO (one-digit hour): Django's parser reads it, so must we
    "2026-11-29T10:11:35+02:00",
]


@pytest.mark.parametrize("text", STORED)
def test_it_reads_what_djangos_parser_reads(text: str) -> None:
    assert read_datetime(text.encode()) == parse_datetime(text)


@pytest.mark.django_db(transaction=True)
def test_it_gives_the_orm_aware_utc_datetimes_equal_to_djangos() -> None:
    issue = make_issue(make_org())
    table = Issue._meta.db_table
    django_ops = DjangoOperations(connection)
    for text in STORED:
        with connection.cursor() as cursor:
            cursor.execute(f'UPDATE "{table}" SET "started_at" = %s WHERE "id" = %s', [text, issue.pk])
        read = Issue.objects.values_list("started_at", flat=True).get(pk=issue.pk)
        expected = django_ops.convert_datetimefield_value(parse_datetime(text), None, connection)
        assert read is not None and read == expected and read.utcoffset() is not None
    created = Issue.objects.get(pk=issue.pk).created_at  # written by the ORM, read back as it was
    assert created.tzinfo is UTC and created == issue.created_at
