"""Labels (``labels.toml``), matched by name."""

from __future__ import annotations

from issues.models import Label
from issues.services import label_create
from orgs.models import Org
from transfer.nouns.common import read_toml, write_toml
from transfer.registry import Bundle, ImportContext

NAME = "labels"
PATH = "labels.toml"


def export(org: Org, bundle: Bundle) -> None:
    rows = [{"name": label.name, "color": label.color} for label in Label.objects.filter(org=org).order_by("name")]
    write_toml(bundle, PATH, {"label": rows})


def load(ctx: ImportContext) -> None:
    by_name = {label.name: label for label in Label.objects.filter(org=ctx.org)}
    for row in read_toml(ctx.bundle, PATH).get("label", []):
        label = by_name.get(row["name"])
        if label is None:
            by_name[row["name"]] = label_create(actor=ctx.actor, org=ctx.org, name=row["name"], color=row["color"])
            ctx.change(f"create label {row['name']}")
        elif label.color != row["color"]:
            # There is no label-edit service yet; the colour is the label's only other field.
            Label.objects.filter(pk=label.pk).update(color=row["color"])
            ctx.change(f"update label {row['name']}: color")
    ctx.refs["labels"] = dict(by_name)
