"""Board policies (``policies.toml``), matched by slug; active or not as exported."""

from __future__ import annotations

from learning.models import BoardPolicy
from orgs.models import Org
from transfer.nouns.common import read_toml, write_toml
from transfer.registry import Bundle, ImportContext

NAME = "policies"
PATH = "policies.toml"
FIELDS = ("text", "active", "created_by_label")


def export(org: Org, bundle: Bundle) -> None:
    rows = [
        {"slug": policy.slug, **{f: getattr(policy, f) for f in FIELDS}}
        for policy in BoardPolicy.objects.filter(org=org).order_by("slug")
    ]
    write_toml(bundle, PATH, {"policy": rows})


def load(ctx: ImportContext) -> None:
    existing = {policy.slug: policy for policy in BoardPolicy.objects.filter(org=ctx.org)}
    for row in read_toml(ctx.bundle, PATH).get("policy", []):
        values = {f: row[f] for f in FIELDS}
        policy = existing.get(row["slug"])
        if policy is None:
            BoardPolicy.objects.create(org=ctx.org, slug=row["slug"], **values)
            ctx.change(f"create policy {row['slug']}")
            continue
        changed = [f for f, v in values.items() if getattr(policy, f) != v]
        if changed:
            BoardPolicy.objects.filter(pk=policy.pk).update(**values)
            ctx.change(f"update policy {row['slug']}: {', '.join(changed)}")
