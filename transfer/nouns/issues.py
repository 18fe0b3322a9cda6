"""Issues: ``issues/<KEY>.toml`` (fields), ``<KEY>.md`` (description), ``<KEY>.comments.jsonl`` (comments).

Issues are matched by number, comments by (author, kind, body) in order. Rows are restored as they were
(keys, statuses, authors, dates): the everyday services hand out new numbers, wake assignees and move an
issue only through its lifecycle, none of which a restore may do. An import adds and updates; it never
deletes what the target org has beyond the bundle.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from issues.models import Comment, Issue, IssueRelation, IssueStage
from orgs.models import Org
from transfer.nouns.blocks import work_ids
from transfer.nouns.common import parse_ts, read_jsonl, read_toml, ts, write_jsonl, write_toml
from transfer.registry import Bundle, ImportContext

NAME = "issues"
DIR = "issues/"
TEXT_FIELDS = ("key", "title", "type", "status", "acceptance_criteria", "created_by_label")
DATE_FIELDS = ("started_at", "completed_at", "archived_at")  # archived_at: the issue stays archived


def export(org: Org, bundle: Bundle) -> None:
    blocks = work_ids(org)
    issues = (
        Issue.objects.filter(org=org)
        .select_related("assignee", "parent", "created_by_agent")
        .prefetch_related("labels", "relations_out__target", "stages")
        .order_by("number")
    )
    for issue in issues:
        meta: dict[str, Any] = {
            "number": issue.number,
            **{f: getattr(issue, f) for f in TEXT_FIELDS},
            "priority": issue.priority,
            "assignee": issue.assignee.slug if issue.assignee else None,
            "created_by_agent": issue.created_by_agent.slug if issue.created_by_agent else None,
            "parent": issue.parent.number if issue.parent else None,
            "work_block": blocks.get(issue.work_block_id) if issue.work_block_id else None,
            "labels": sorted(label.name for label in issue.labels.all()),
            "board_position": issue.board_position,
            **{f: ts(getattr(issue, f)) for f in DATE_FIELDS},
            "created_at": ts(issue.created_at),
            "stages": [
                {"title": st.title, "done": st.done, "completed_at": ts(st.completed_at)}
                for st in sorted(issue.stages.all(), key=lambda st: st.number)
            ],
            "relations": sorted(
                ({"kind": r.kind, "target": r.target.number} for r in issue.relations_out.all()),
                key=lambda r: (r["target"], r["kind"]),
            ),
        }
        write_toml(bundle, f"{DIR}{issue.key}.toml", meta)
        bundle[f"{DIR}{issue.key}.md"] = issue.description
        comments = issue.comments.select_related("author_agent").order_by("created_at", "id")
        write_jsonl(
            bundle,
            f"{DIR}{issue.key}.comments.jsonl",
            (
                {
                    "author": c.author_label,
                    "author_agent": c.author_agent.slug if c.author_agent else None,
                    "kind": c.kind,
                    "created_at": ts(c.created_at),
                    "body": c.body,
                }
                for c in comments
            ),
        )


def _values(ctx: ImportContext, meta: dict[str, Any], description: str) -> dict[str, Any]:
    agents, blocks = ctx.refs.get("agents", {}), ctx.refs.get("work", {})
    return {
        **{f: meta.get(f, "") for f in TEXT_FIELDS},
        "description": description,
        "priority": meta.get("priority", 0),
        "assignee": agents.get(meta.get("assignee") or ""),
        "created_by_agent": agents.get(meta.get("created_by_agent") or ""),
        "work_block": blocks.get(meta.get("work_block") or ""),
        "board_position": meta.get("board_position"),
        **{f: parse_ts(meta.get(f)) for f in DATE_FIELDS},
    }


def load(ctx: ImportContext) -> None:
    metas = sorted(
        (
            (read_toml(ctx.bundle, name), name[len(DIR) : -len(".toml")])
            for name in ctx.bundle
            if name.startswith(DIR) and name.endswith(".toml")
        ),
        key=lambda pair: pair[0]["number"],
    )
    by_number = {i.number: i for i in Issue.objects.filter(org=ctx.org).prefetch_related("labels")}
    for meta, key in metas:
        values = _values(ctx, meta, ctx.bundle.get(f"{DIR}{key}.md", ""))
        issue = by_number.get(meta["number"])
        if issue is None:
            issue = Issue.objects.create(org=ctx.org, number=meta["number"], **values)
            by_number[issue.number] = issue
            ctx.change(f"create issue {values['key']}")
        else:
            changed = sorted(k for k, v in values.items() if getattr(issue, k) != v)
            if changed:
                Issue.objects.filter(pk=issue.pk).update(**{k: values[k] for k in changed})
                ctx.change(f"update issue {issue.key}: {', '.join(changed)}")
        created = parse_ts(meta.get("created_at"))
        if created is not None and issue.created_at != created:
            Issue.objects.filter(pk=issue.pk).update(created_at=created)
        _labels(ctx, issue, meta.get("labels", []))
        _stages(ctx, issue, meta.get("stages", []))
        _comments(ctx, issue, read_jsonl(ctx.bundle, f"{DIR}{key}.comments.jsonl"))
    # Parents and relations once every issue exists.
    for meta, _key in metas:
        issue = by_number[meta["number"]]
        parent = by_number.get(meta.get("parent") or 0)
        if issue.parent_id != (parent.pk if parent else None):
            Issue.objects.filter(pk=issue.pk).update(parent=parent)
            ctx.change(f"update issue {issue.key}: parent")
        for relation in meta.get("relations", []):
            target = by_number.get(relation["target"])
            if target is None:
                continue
            _row, created_now = IssueRelation.objects.get_or_create(source=issue, target=target, kind=relation["kind"])
            if created_now:
                ctx.change(f"add relation {issue.key} {relation['kind']} {target.key}")
    top = max((m["number"] for m, _k in metas), default=0)
    # New issues after the import continue after the highest imported number.
    Org.objects.filter(pk=ctx.org.pk, issue_seq__lt=top).update(issue_seq=top)
    ctx.refs["issues"] = {str(n): i for n, i in by_number.items()}


def _labels(ctx: ImportContext, issue: Issue, names: list[str]) -> None:
    labels = ctx.refs.get("labels", {})
    wanted = {labels[n] for n in names if n in labels}
    if wanted != set(issue.labels.all()):
        issue.labels.set(wanted)
        ctx.change(f"update issue {issue.key}: labels")


def _stages(ctx: ImportContext, issue: Issue, rows: list[dict[str, Any]]) -> None:
    wanted = [(n, r["title"], bool(r.get("done")), parse_ts(r.get("completed_at"))) for n, r in enumerate(rows, 1)]
    have = list(
        IssueStage.objects.filter(issue=issue).order_by("number").values_list("number", "title", "done", "completed_at")
    )
    if wanted != have:
        IssueStage.objects.filter(issue=issue).delete()
        IssueStage.objects.bulk_create(
            IssueStage(issue=issue, number=n, title=t, done=d, completed_at=c) for n, t, d, c in wanted
        )
        ctx.change(f"update issue {issue.key}: stages")


def _comments(ctx: ImportContext, issue: Issue, rows: list[dict[str, Any]]) -> None:
    agents = ctx.refs.get("agents", {})
    present = Counter(issue.comments.values_list("author_label", "kind", "body"))
    added = 0
    for row in rows:
        signature = (row.get("author", ""), row.get("kind", "comment"), row["body"])
        if present[signature]:
            present[signature] -= 1
            continue
        comment = Comment.objects.create(
            issue=issue,
            author_agent=agents.get(row.get("author_agent") or ""),
            author_label=signature[0],
            kind=signature[1],
            body=signature[2],
        )
        created = parse_ts(row.get("created_at"))
        if created is not None:
            Comment.objects.filter(pk=comment.pk).update(created_at=created)
        added += 1
    if added:
        ctx.change(f"add {added} comment(s) to {issue.key}")
