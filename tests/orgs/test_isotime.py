"""IsoUtc: the database writes a datetime column as the API's ``iso()`` does, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from api.serializers.issues import iso
from issues.models import Issue
from orgs.isotime import IsoUtc
from tests.factories import make_issue, make_org
from tests.orgs.postgres import pg_database, run_mesa_script

# With and without microseconds (isoformat leaves them out when they are zero), and one given in
# another zone (stored as UTC).
STAMPS = [
    datetime(2026, 11, 29, 16, 5, 7, 123456, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
]


def test_it_reads_what_iso_writes_on_sqlite(db: None) -> None:
    org = make_org()
    issues = [make_issue(org) for _ in STAMPS]
    for issue, stamp in zip(issues, STAMPS, strict=True):
        Issue.objects.filter(pk=issue.pk).update(started_at=stamp)
    rows = dict(Issue.objects.filter(org=org).values_list("pk", IsoUtc("started_at")))
    for issue, stamp in zip(issues, STAMPS, strict=True):
        assert rows[issue.pk] == iso(stamp.astimezone(UTC))
        fresh = Issue.objects.get(pk=issue.pk)
        assert rows[issue.pk] == iso(fresh.started_at)
    assert iso(STAMPS[1]) == "2026-01-02T03:04:05Z"  # the case without microseconds is covered
    assert dict(Issue.objects.filter(org=org).values_list("pk", IsoUtc("completed_at"))) == {i.pk: None for i in issues}


PG_SCRIPT = """
import json
from datetime import UTC, datetime, timedelta, timezone
from api.serializers.issues import iso
from issues.models import Issue
from issues.services import issue_create
from orgs.actors import Actor
from orgs.isotime import IsoUtc
from orgs.services import org_create

stamps = [
    datetime(2026, 11, 29, 16, 5, 7, 123456, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
]
actor = Actor.system("pg-test")
org = org_create(actor=actor, name="Times", slug="times", issue_prefix="TM")
out = []
for stamp in stamps:
    issue = issue_create(actor=actor, org=org, title=f"At {stamp}")
    Issue.objects.filter(pk=issue.pk).update(started_at=stamp)
    text, empty = Issue.objects.filter(pk=issue.pk).values_list(IsoUtc("started_at"), IsoUtc("completed_at")).get()
    out.append([text, empty, iso(Issue.objects.get(pk=issue.pk).started_at)])
print(json.dumps(out))
"""


@pytest.mark.postgres
def test_it_reads_what_iso_writes_on_postgres() -> None:
    with pg_database() as url:
        rows = run_mesa_script(url, PG_SCRIPT)
    assert [r[0] for r in rows] == [iso(s.astimezone(UTC)) for s in STAMPS]
    assert all(r[0] == r[2] and r[1] is None for r in rows)
