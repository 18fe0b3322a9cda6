"""Writes for labels (archive / restore and recolouring: ``issues/archive.py``)."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from issues.models import Label
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
