"""Labels (``labels.toml``), matched by name; an archived label keeps its ``archived_at``."""

from __future__ import annotations

from issues.labels import label_create
from issues.models import Label
from orgs.models import Org
from transfer.nouns.common import parse_ts, read_toml, ts, write_toml
from transfer.registry import Bundle, ImportContext

NAME = "labels"
PATH = "labels.toml"


def export(org: Org, bundle: Bundle) -> None:
    rows = [
        {"name": label.name, "color": label.color, "archived_at": ts(label.archived_at)}
        for label in Label.objects.filter(org=org).order_by("name")
    ]
    write_toml(bundle, PATH, {"label": rows})


def load(ctx: ImportContext) -> None:
    by_name = {label.name: label for label in Label.objects.filter(org=ctx.org)}
    for row in read_toml(ctx.bundle, PATH).get("label", []):
        label = by_name.get(row["name"])
        archived_at, existed = parse_ts(row.get("archived_at")), label is not None
        if label is None:
            label = label_create(actor=ctx.actor, org=ctx.org, name=row["name"], color=row["color"])
            by_name[row["name"]] = label
            ctx.change(f"create label {row['name']}")
        elif label.color != row["color"]:
            # Restored as it was, like the issues: label_update would record an edit nobody made.
            Label.objects.filter(pk=label.pk).update(color=row["color"])
            ctx.change(f"update label {row['name']}: color")
        if label.archived_at != archived_at:
            Label.objects.filter(pk=label.pk).update(archived_at=archived_at)
            label.archived_at = archived_at
            if existed:
                ctx.change(f"update label {row['name']}: archived_at")
    ctx.refs["labels"] = dict(by_name)
