"""Checks of what a caller asks for an issue: each raises InvalidInput naming the field, or returns the clean value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from issues.models import Issue, IssueType, Label, Priority
from orgs.errors import InvalidInput
from orgs.models import Org

if TYPE_CHECKING:
    # Annotations only: issues and blocks are independent domain apps (an issue names its block by FK).
    from blocks.models import WorkBlock

MAX_TITLE = 300
MAX_BODY = 100_000


def shorten_title(text: str, limit: int = MAX_TITLE) -> str:
    """``text`` on one line, at most ``limit`` characters, cut at a word boundary with "…" when too long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    if cut <= limit // 2:  # one very long word: cut it where it must be
        cut = limit - 1
    return text[:cut].rstrip() + "…"


def clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput("An issue needs a title.", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"The title is longer than {MAX_TITLE} characters.", field="title")
    return title


def clean_text(value: str, field: str) -> str:
    value = value or ""
    if len(value) > MAX_BODY:
        raise InvalidInput(f"{field} is longer than {MAX_BODY} characters.", field=field)
    return value


def clean_priority(priority: Any) -> int:
    try:
        value = int(priority)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("priority must be 0 (none) to 4 (urgent).", field="priority") from exc
    if value not in Priority.values:
        raise InvalidInput("priority must be 0 (none) to 4 (urgent).", field="priority")
    return value


def clean_type(type_: str) -> str:
    if type_ not in IssueType.values:
        raise InvalidInput(f"Unknown type {type_!r}; use one of {', '.join(IssueType.values)}.", field="type")
    return type_


def same_org(org: Org, obj: Any, field: str) -> None:
    if obj is not None and obj.org_id != org.pk:
        raise InvalidInput(f"{field} belongs to another org.", field=field)


def check_parent(org: Org, parent: Issue | None, issue: Issue | None = None) -> None:
    if parent is None:
        return
    same_org(org, parent, "parent")
    depth = 1
    cursor: Issue | None = parent
    seen: set[int] = set()
    while cursor is not None:
        if issue is not None and cursor.pk == issue.pk:
            raise InvalidInput(f"{parent.key} is a sub-issue of {issue.key}; that would make a loop.", field="parent")
        if cursor.pk in seen:
            break
        seen.add(cursor.pk)
        depth += 1
        cursor = cursor.parent if cursor.parent_id else None
    limit = settings.MESA_MAX_ISSUE_DEPTH
    # Moving an issue moves its own sub-issues too: count the levels below it.
    below = 0
    if issue is not None and issue.pk is not None:
        frontier, visited = [issue.pk], {issue.pk}
        while frontier and below <= limit:
            children = Issue.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
            frontier = [pk for pk in children if pk not in visited]
            visited.update(frontier)
            below += 1 if frontier else 0
    if depth + below > limit + 1:
        extra = f" and {issue.key if issue else 'it'} has {below} level(s) of sub-issues" if below else ""
        raise InvalidInput(
            f"Sub-issues may nest at most {limit} levels deep; {parent.key} is already {depth - 1} levels down{extra}.",
            field="parent",
            code="too_deep",
        )


def check_work_block(org: Org, block: WorkBlock | None) -> None:
    if block is None:
        return
    same_org(org, block, "work_block")
    if block.is_closed:
        raise InvalidInput(f"Work block {block.title!r} is {block.status}; pick an open one.", field="work_block")


def resolve_labels(org: Org, names: list[str]) -> list[Label]:
    wanted = {n.strip().lower(): n.strip() for n in names if n and n.strip()}
    if not wanted:
        return []
    found = {lab.name.lower(): lab for lab in Label.objects.filter(org=org)}
    missing = [wanted[n] for n in wanted if n not in found]
    if missing:
        known = ", ".join(sorted(lab.name for lab in found.values())) or "none yet"
        raise InvalidInput(
            f"Unknown label(s): {', '.join(missing)}. Known labels: {known}. Create a label first.", field="labels"
        )
    return [found[n] for n in wanted]
