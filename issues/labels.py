"""Writes for labels (archive / restore and recolouring: ``issues/archive.py``)."""

from __future__ import annotations

import re

from django.db import IntegrityError, connection, transaction

from issues.models import Issue, Label
from orgs.actors import Actor
from orgs.errors import Conflict, InvalidInput
from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.services import activity_record, require_member

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


@transaction.atomic
def label_create(*, actor: Actor, org: Org, name: str, color: str = "#8b8d98") -> Label:
    require_member(actor, org.pk)
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("A label needs a name.", field="name")
    if len(name) > 50:
        raise InvalidInput("Label names are at most 50 characters.", field="name")
    if not COLOR_RE.match(color or ""):
        raise InvalidInput("color must be a hex colour like #e5484d.", field="color")
    if Label.objects.filter(org=org, name__iexact=name).exists():
        raise Conflict(f"The label {name!r} already exists.", code="duplicate")
    try:
        with transaction.atomic():
            label = Label.objects.create(org=org, name=name, color=color)
    except IntegrityError as exc:
        raise Conflict(f"The label {name!r} already exists.", code="duplicate") from exc
    activity_record(org=org, actor=actor, verb="created", obj=label)
    event_publish(org=org, type=EventType.LABEL_CREATED, data={"id": label.pk, "name": name, "color": color})
    return label


# A read, kept beside the label writes rather than in issues.selectors: the board uses it, and issues.selectors
# imports the board (through issues.saved_views).
def issue_labels_of(issue_ids: list[int]) -> list[tuple[int, int, str]]:
    """(issue id, label id, label name) for every label of these issues, in one plain SQL query: through the
    ORM, binding a page's few hundred ids to the ``IN`` list cost a third of a list page's CPU."""
    if not issue_ids:
        return []
    qn = connection.ops.quote_name
    through, label = Issue.labels.through._meta.db_table, Label._meta.db_table
    sql = (
        f"SELECT t.{qn('issue_id')}, l.{qn('id')}, l.{qn('name')} FROM {qn(through)} t "
        f"JOIN {qn(label)} l ON l.{qn('id')} = t.{qn('label_id')} "
        f"WHERE t.{qn('issue_id')} IN ({', '.join(['%s'] * len(issue_ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, issue_ids)
        return [(int(i), int(lab), str(name)) for i, lab, name in cursor.fetchall()]
