"""Apex blocks and work blocks (``blocks.toml``).

Blocks have no natural key, so the file numbers them (``apex-1``, ``work-1`` in creation order) and an
import matches each to the existing block with the same title, in order. Rows are restored as they were
(status and dates included): the everyday services move a block only through its approval-gated steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from blocks.models import ApexBlock, WorkBlock
from orgs.models import Org
from transfer.nouns.common import nth_match, parse_ts, read_toml, ts, write_toml
from transfer.registry import Bundle, ImportContext

NAME = "blocks"
PATH = "blocks.toml"
APEX_FIELDS = ("title", "goal", "status")
WORK_FIELDS = ("title", "goal", "acceptance_criteria", "north_star_metric", "north_star_target", "status")
WORK_DATES = ("activated_at", "completed_at")


def apex_ids(org: Org) -> dict[int, str]:
    rows = ApexBlock.objects.filter(org=org).order_by("created_at", "id").values_list("pk", flat=True)
    return {pk: f"apex-{n}" for n, pk in enumerate(rows, start=1)}


def work_ids(org: Org) -> dict[int, str]:
    rows = WorkBlock.objects.filter(org=org).order_by("created_at", "id").values_list("pk", flat=True)
    return {pk: f"work-{n}" for n, pk in enumerate(rows, start=1)}


def export(org: Org, bundle: Bundle) -> None:
    apex_by_pk, work_by_pk = apex_ids(org), work_ids(org)
    apex = [
        {"id": apex_by_pk[a.pk], **{f: getattr(a, f) for f in APEX_FIELDS}, "created_at": ts(a.created_at)}
        for a in ApexBlock.objects.filter(org=org).order_by("created_at", "id")
    ]
    work = [
        {
            "id": work_by_pk[w.pk],
            **{f: getattr(w, f) for f in WORK_FIELDS},
            "apex": apex_by_pk.get(w.apex_block_id) if w.apex_block_id else None,
            **{f: ts(getattr(w, f)) for f in WORK_DATES},
            "created_at": ts(w.created_at),
        }
        for w in WorkBlock.objects.filter(org=org).order_by("created_at", "id")
    ]
    write_toml(bundle, PATH, {"apex": apex, "work": work})


def _restore(
    ctx: ImportContext, model: Any, kind: str, rows: list[dict[str, Any]], wanted: Callable[[dict[str, Any]], dict]
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    existing = list(model.objects.filter(org=ctx.org).order_by("created_at", "id"))
    taken: set[int] = set()
    for row in rows:
        values = wanted(row)
        created = parse_ts(row.get("created_at"))
        match = nth_match([b for b in existing if b.title == row["title"]], taken)
        if match is None:
            block = model.objects.create(org=ctx.org, **values)
            ctx.change(f"create {kind} {row['title']!r}")
        else:
            block = match[1]
            changed = sorted(k for k, v in values.items() if getattr(block, k) != v)
            if changed:
                model.objects.filter(pk=block.pk).update(**{k: values[k] for k in changed})
                ctx.change(f"update {kind} {row['title']!r}: {', '.join(changed)}")
        if created is not None and block.created_at != created:
            # auto_now_add ignores a given value on create; an update keeps the original date.
            model.objects.filter(pk=block.pk).update(created_at=created)
        found[row["id"]] = block
    return found


def load(ctx: ImportContext) -> None:
    data = read_toml(ctx.bundle, PATH)
    apex = _restore(
        ctx, ApexBlock, "apex block", data.get("apex", []), lambda row: {f: row.get(f, "") for f in APEX_FIELDS}
    )

    def work_values(row: dict[str, Any]) -> dict[str, Any]:
        return {
            **{f: row.get(f, "") for f in WORK_FIELDS},
            **{f: parse_ts(row.get(f)) for f in WORK_DATES},
            "apex_block": apex.get(row.get("apex") or ""),
        }

    ctx.refs["apex"] = apex
    ctx.refs["work"] = _restore(ctx, WorkBlock, "work block", data.get("work", []), work_values)
