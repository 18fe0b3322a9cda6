"""Board and list queries for the HTML pages: filtered, grouped, capped per group, in a fixed number of queries.

A board with 10,000 issues must render fast, so each group (status column, or
list group) shows at most ``limit`` cards chosen by one windowed query, with
the true count per group from one aggregate query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from html import escape as _e
from typing import Any
from urllib.parse import quote, urlencode

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.http import QueryDict
from django.urls import URLResolver, get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe

from issues.formatting import ago, priority_icon, status_icon
from issues.labels import issue_labels_of
from issues.lifecycle import allowed_moves
from issues.models import OPEN_STATUSES, TERMINAL_STATUSES, Issue, IssueType, Label, Priority, Status
from orgs.models import Org
from orgs.numbers import whole_number

FILTER_KEYS: tuple[str, ...] = ("assignee", "label", "priority", "type", "block", "q", "status")
GROUPINGS: tuple[str, ...] = ("status", "assignee", "priority", "type", "none")
# How cards are ordered within a group: "manual" (dragged positions first, then priority) is the default.
ORDERINGS: tuple[str, ...] = ("manual", "priority", "updated", "created")
# Terminal columns are shown on the board only when they hold something.
OPTIONAL_COLUMNS: frozenset[str] = frozenset({Status.WONT_DO, Status.CANCELLED})
_TYPE_LABELS: dict[str, str] = {value: str(label) for value, label in IssueType.choices}


@dataclass(slots=True)
class Card:
    """What a card or list row shows: plain values, no model instances (cheap for hundreds of cards)."""

    id: int
    key: str
    title: str
    status: str
    priority: int
    type: str
    updated_at: datetime
    assignee_id: int | None
    assignee_name: str | None
    label_list: list[Label] = field(default_factory=list)
    sub_count: int = 0
    sub_done: int = 0

    @property
    def moves(self) -> tuple[tuple[str, str], ...]:
        """(status, label) of each legal next status: the options of the card's move form."""
        return _moves(self.status)

    @property
    def type_pill(self) -> str:
        """The type's label, or "" for a plain task: cards name only the other types."""
        return "" if self.type == IssueType.TASK else _TYPE_LABELS.get(self.type, self.type)


@dataclass
class Group:
    value: Any
    label: str
    count: int
    issues: list[Card] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        return max(0, self.count - len(self.issues))


# Filters that take several values (``?status=todo&status=in_progress``): an issue matches any of them.
MULTI_KEYS: tuple[str, ...] = ("assignee", "label", "priority", "type", "block", "status")
MAX_FILTER_VALUES = 50

Filters = dict[str, list[str]]


def parse_filters(params: QueryDict) -> Filters:
    """The board filters in ``params``: each key with its non-empty values, in order, without repeats.

    ``q`` (free text) keeps one value; the others keep up to ``MAX_FILTER_VALUES``.
    """
    out: Filters = {}
    for key in FILTER_KEYS:
        values: list[str] = []
        for raw in params.getlist(key)[: 1 if key == "q" else MAX_FILTER_VALUES]:
            value = raw.strip()
            if value and value not in values:
                values.append(value)
        if values:
            out[key] = values
    return out


def filters_query(filters: Filters, *, without: Iterable[str] = ()) -> str:
    """``filters`` as a query string (``status=todo&status=done``), leaving out the keys in ``without``."""
    pairs = [(k, v) for k, values in filters.items() if k not in without for v in values]
    return urlencode(pairs)


def _with_none(values: list[str], none_q: Q, some: Q) -> Q:
    """``none_q`` if "none" is among ``values``, OR'ed with ``some`` when other values are given too."""
    parts = Q(pk__in=[])
    if "none" in values:
        parts |= none_q
    return parts | some


def filtered_issues(org: Org, filters: Filters) -> QuerySet[Issue]:
    """The issues of ``org`` that match every filter key (any of the values given for a key)."""
    qs = Issue.objects.filter(org=org, archived_at__isnull=True)  # archived issues: issues/archived/
    assignees = filters.get("assignee")
    if assignees:
        slugs = [a for a in assignees if a != "none"]
        qs = qs.filter(_with_none(assignees, Q(assignee__isnull=True), Q(assignee__slug__in=slugs)))
    names = filters.get("label")
    if names:
        # A subquery, not a join: an issue with two of the chosen labels is still one card.
        through = Issue.labels.through.objects.filter(label__org=org, label__name__in=names)
        qs = qs.filter(pk__in=Subquery(through.values("issue_id")))
    if filters.get("priority"):
        priorities = [p for p in (whole_number(v, maximum=4) for v in filters["priority"]) if p is not None]
        qs = qs.filter(priority__in=priorities)
    if filters.get("type"):
        qs = qs.filter(type__in=filters["type"])
    blocks = filters.get("block")
    if blocks:
        ids = [b for b in (whole_number(v, minimum=1) for v in blocks) if b is not None]
        qs = qs.filter(_with_none(blocks, Q(work_block__isnull=True), Q(work_block_id__in=ids)))
    statuses = filters.get("status")
    if statuses:
        qs = qs.filter(status__in=_statuses(statuses))
    text = (filters.get("q") or [""])[0]
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(key__iexact=text) | Q(description__icontains=text))
    return qs


def _statuses(values: list[str]) -> set[str]:
    """The statuses ``values`` name ("open" stands for every non-terminal one)."""
    chosen = {v for v in values if v in Status.values}
    if "open" in values:
        chosen |= set(OPEN_STATUSES)
    return chosen


def _group_field(grouping: str) -> str | None:
    return {"status": "status", "assignee": "assignee_id", "priority": "priority", "type": "type"}.get(grouping)


def _cards(
    qs: QuerySet[Issue],
    group_field: str | None,
    values: Iterable[Any],
    limit: int,
    labels: dict[int, Label],
    *,
    indexed: bool = True,
    order: str = "manual",
) -> list[Card]:
    """At most ``limit`` issues per group value, best first, with assignee, labels and sub-issue progress.

    Status columns: one ``id IN (… ORDER BY … LIMIT n)`` subquery per status, each a
    short read of the ``issue_board_order`` index. Other groupings: one window
    function over the org. The cards are then read by id as plain values, and
    labels and sub-issue counts are fetched for the chosen cards alone.
    """
    # A column's manually ordered cards first (issues.ordering), then by priority and recency.
    ordering = _ordering(order)
    if group_field is None:
        chosen = Q(pk__in=list(qs.order_by(*ordering).values_list("id", flat=True)[:limit]))
    elif group_field == "status" and indexed:
        # Served by the issue_board_order index: each subquery reads `limit` index entries.
        chosen = Q(pk__in=[])
        for value in values:
            chosen |= Q(pk__in=qs.filter(status=value).order_by(*ordering).values("id")[:limit])
    else:
        # Other groupings have no matching index: one windowed pass sorts the org once.
        ranked = qs.order_by().annotate(rank=Window(RowNumber(), partition_by=[F(group_field)], order_by=ordering))
        chosen = Q(pk__in=Subquery(ranked.filter(rank__lte=limit).values("id")))
    fields = ("id", "key", "title", "status", "priority", "type", "updated_at", "assignee_id", "assignee__name")
    cards = [Card(*row) for row in Issue.objects.filter(chosen).order_by(*ordering).values_list(*fields)]
    ids = [c.id for c in cards]
    counts = _sub_issue_counts(ids)
    label_ids: dict[int, list[int]] = {}
    for issue_id, label_id, _name in issue_labels_of(ids):
        label_ids.setdefault(issue_id, []).append(label_id)
    for card in cards:
        card.label_list = [labels[i] for i in label_ids.get(card.id, ()) if i in labels]
        card.sub_count, card.sub_done = counts.get(card.id, (0, 0))
    return cards


def _in_list(ids: list[Any]) -> str:
    return ", ".join(["%s"] * len(ids))


def _sub_issue_counts(ids: list[int]) -> dict[int, tuple[int, int]]:
    """parent id -> (sub-issues, of which finished), archived sub-issues left out. Plain SQL, like the labels
    (``issue_labels_of``): through the ORM, binding a board's few hundred ids cost about a tenth of the page."""
    if not ids:
        return {}
    qn, table = connection.ops.quote_name, connection.ops.quote_name(Issue._meta.db_table)
    terminal = sorted(TERMINAL_STATUSES)
    finished = f"SUM(CASE WHEN {qn('status')} IN ({_in_list(terminal)}) THEN 1 ELSE 0 END)"
    sql = (
        f"SELECT {qn('parent_id')}, COUNT(*), {finished} "
        f"FROM {table} WHERE {qn('archived_at')} IS NULL AND {qn('parent_id')} IN ({_in_list(ids)}) "
        f"GROUP BY {qn('parent_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*terminal, *ids])
        return {parent: (int(n), int(done or 0)) for parent, n, done in cursor.fetchall()}


def _ordering(order: str) -> list[Any]:
    tail = [F("updated_at").desc(), F("id").desc()]
    if order == "priority":
        return [F("priority").desc(), *tail]
    if order == "updated":
        return tail
    if order == "created":
        return [F("created_at").desc(), F("id").desc()]
    return [F("board_position").asc(nulls_last=True), F("priority").desc(), *tail]


def grouped(
    org: Org,
    filters: Filters,
    *,
    grouping: str,
    limit: int,
    agents: list[Any],
    labels: list[Label],
    order: str = "manual",
) -> list[Group]:
    """Issues of ``org`` matching ``filters`` in groups (status columns by default), each capped at ``limit``."""
    qs = filtered_issues(org, filters)
    labels_by_id = {lab.pk: lab for lab in labels}
    if grouping not in GROUPINGS:
        grouping = "status"
    gf = _group_field(grouping)
    if gf is None:
        total = qs.count()
        return [
            Group(
                value="all",
                label="All issues",
                count=total,
                issues=_cards(qs, None, (), limit, labels_by_id, order=order),
            )
        ]
    # No DISTINCT: every filter is a column or a subquery (filtered_issues), never a join that repeats an issue.
    counts = {row[gf]: row["n"] for row in qs.order_by().values(gf).annotate(n=Count("id"))}
    # A text search must read every row anyway: one windowed scan beats eight index walks.
    # The index serves the manual order alone; other orders take the windowed pass.
    indexed = "q" not in filters and order not in ORDERINGS[1:]
    values = [v for v, n in counts.items() if n]
    cards = _cards(qs, gf, values, limit, labels_by_id, indexed=indexed, order=order)
    options: list[tuple[Any, str]]
    if grouping == "status":
        options = [(s.value, s.label) for s in Status]
        options = [(v, lab) for v, lab in options if v not in OPTIONAL_COLUMNS or counts.get(v)]
        if filters.get("status"):
            shown = _statuses(filters["status"])
            options = [(v, lab) for v, lab in options if v in shown]
    elif grouping == "priority":
        options = [(p.value, p.label) for p in sorted(Priority, key=lambda p: -p.value if p.value else -99)]
    elif grouping == "type":
        options = [(t.value, t.label) for t in IssueType]
    else:
        options = [(a.pk, a.name) for a in agents] + [(None, "Unassigned")]
    groups = {value: Group(value=value, label=label, count=counts.get(value, 0)) for value, label in options}
    for card in cards:
        group = groups.get(getattr(card, gf))
        if group is not None:
            group.issues.append(card)
    if grouping == "status":
        return list(groups.values())
    return [g for g in groups.values() if g.count]


def _labels_html(card: Card) -> str:
    return "".join(
        f'<span class="pill"><span class="label-dot" style="background:{_e(lab.color)}"></span>{_e(lab.name)}</span>'
        for lab in card.label_list
    )


def _sub_html(card: Card) -> str:
    if not card.sub_count:
        return ""
    return f'<span class="pill" title="Sub-issues done / total">⊟ {card.sub_done}/{card.sub_count}</span>'


_KEY = "__key__"  # stands for the issue key while an issue URL is reversed once for every card
# What reverse() leaves unquoted in a path argument (django.urls.resolvers).
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"
# Keys as the org prefix makes them (ACME-12): nothing to quote or escape.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.-]+\Z").match


def _issue_path(name: str) -> tuple[str, str]:
    """The HTML-escaped text before and after the key in the URL of the issue route ``name``.

    ``reverse()`` costs 0.15 ms, so it runs once for all the cards, and again only
    when what it reads changes: the script prefix and the URLconf (both per request).
    The key goes in between as ``_path_key`` quotes it, the way ``reverse()`` would.
    """
    return _reversed_path(name, get_script_prefix(), get_resolver(get_urlconf()))


@lru_cache(maxsize=32)
def _reversed_path(name: str, prefix: str, resolver: URLResolver) -> tuple[str, str]:
    # ``prefix`` and ``resolver`` are the cache key: reverse() reads the same two itself.
    head, _, tail = reverse(name, kwargs={"key": _KEY}).partition(_KEY)
    return _e(head), _e(tail)


def _path_key(key: str) -> str:
    """``key`` quoted for a URL path and escaped for an HTML attribute."""
    return key if _PLAIN_KEY(key) else _e(quote(key, safe=_URL_SAFE))


def cards_html(issues: Iterable[Card], *, query: str, csrf_token: str) -> SafeString:
    """Board cards, built with plain string escaping: a template would take ten times as long.

    Each card: key, priority, assignee, title link (``data-nav-item``), type, labels,
    sub-issue progress, and a small move form listing the legal moves (the keyboard
    and no-JS fallback for drag and drop). Every dynamic value goes through ``_e``.
    ``templates/issues/partials/card.html`` is the same card as a template (the
    readable reference); tests/issues/test_board.py keeps the two identical.
    """
    suffix = _e(f"?{query}") if query else ""
    token = _e(csrf_token)
    (detail_head, detail_tail), (move_head, move_tail) = _issue_path("issues:detail"), _issue_path("issues:move")
    out: list[str] = []
    for issue in issues:
        key, path_key = _e(issue.key), _path_key(issue.key)
        move_url = f"{move_head}{path_key}{move_tail}{suffix}"
        assignee = ""
        if issue.assignee_name:
            name = issue.assignee_name
            assignee = f'<span class="avatar" title="{_e(name)}">{_e(name[:2])}</span>'
        pill = issue.type_pill
        kind = f'<span class="pill">{_e(pill)}</span>' if pill else ""
        form = ""
        options = _move_options(issue.status)
        if options:
            form = (
                f'<form class="move" method="post" action="{move_url}" hx-post="{move_url}" '
                'hx-target="#board-columns" hx-swap="outerHTML">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
                f'<select name="status" aria-label="Move {key} to">{options}</select>'
                '<button class="btn btn-sm">Move</button></form>'
            )
        out.append(
            f'<article class="card" draggable="true" data-key="{key}" data-status="{_e(issue.status)}" '
            f'data-move-url="{move_url}"><div class="card-top"><span class="key">{key}</span>'
            f'{priority_icon(issue.priority)}<span class="grow"></span>{assignee}</div>'
            f'<a class="card-title" data-nav-item href="{detail_head}{path_key}{detail_tail}">{_e(issue.title)}</a>'
            f'<div class="card-meta">{kind}{_labels_html(issue)}{_sub_html(issue)}</div>{form}</article>'
        )
    return mark_safe("".join(out))  # every dynamic part escaped above


def rows_html(issues: Iterable[Card]) -> SafeString:
    """List-view rows: status, key, priority, title (+ sub-issue progress), labels, assignee, age.

    ``templates/issues/partials/list_row.html`` is the same row as a template (see ``cards_html``).
    """
    detail_head, detail_tail = _issue_path("issues:detail")
    out: list[str] = []
    for issue in issues:
        key = _e(issue.key)
        assignee = _e(issue.assignee_name or "")
        out.append(
            f'<a class="list-row" data-nav-item data-key="{key}" data-status="{_e(issue.status)}" '
            f'href="{detail_head}{_path_key(issue.key)}{detail_tail}">'
            f"{status_icon(issue.status)}"
            f'<span class="key">{key}</span>{priority_icon(issue.priority)}'
            f'<span class="title">{_e(issue.title)} {_sub_html(issue)}</span>'
            f'<span class="labels">{_labels_html(issue)}</span><span class="assignee muted small">{assignee}</span>'
            f'<span class="muted small right">{_e(ago(issue.updated_at))}</span></a>'
        )
    return mark_safe("".join(out))  # every dynamic part escaped above


@lru_cache(maxsize=32)
def _moves(status: str) -> tuple[tuple[str, str], ...]:
    labels = dict(Status.choices)
    return tuple((s, str(labels.get(s, s))) for s in allowed_moves(status))


@lru_cache(maxsize=32)
def _move_options(status: str) -> str:
    return "".join(f'<option value="{_e(s)}">→ {_e(label)}</option>' for s, label in _moves(status))


@dataclass(slots=True)
class FilterMenu:
    """One toolbar filter: its query key, its title, and each option as (value, label, chosen)."""

    name: str
    title: str
    options: list[tuple[str, str, bool]]
    multi: bool = True

    @property
    def summary(self) -> str:
        """What the closed filter says: "Status", "Status: Todo", or "Status: 3"."""
        chosen = [label for _, label, on in self.options if on]
        if not chosen:
            return self.title
        return f"{self.title}: {chosen[0]}" if len(chosen) == 1 else f"{self.title}: {len(chosen)}"


def filter_menus(filters: Filters, *, agents: list[Any], labels: list[Label], blocks: list[Any]) -> list[FilterMenu]:
    """The toolbar's multi-select filters, in order, with the values ``filters`` chose marked."""

    def menu(name: str, title: str, options: Iterable[tuple[Any, Any]]) -> FilterMenu:
        chosen = set(filters.get(name, ()))
        return FilterMenu(name, title, [(str(v), str(lab), str(v) in chosen) for v, lab in options])

    return [
        menu("status", "Status", [("open", "Open (not closed)"), *Status.choices]),
        menu("assignee", "Assignee", [("none", "Unassigned"), *((a.slug, a.name) for a in agents)]),
        menu("label", "Label", ((lab.name, lab.name) for lab in labels)),
        menu("priority", "Priority", sorted(Priority.choices, key=lambda c: -c[0])),
        menu("type", "Type", IssueType.choices),
        menu("block", "Work block", [("none", "No work block"), *((b.pk, b.title) for b in blocks)]),
    ]


def menu_html(menu: FilterMenu) -> SafeString:
    """``issues/partials/filter_menu.html`` for ``menu``, built in Python like the cards (the toolbar's
    menus hold every agent, label and block: their template loops were a tenth of the board page)."""
    multi = menu.multi
    kind = "checkbox" if multi else "radio"
    name, title = _e(menu.name), _e(menu.title)
    options = "".join(
        f'<label><input type="{kind}" name="{name}" value="{_e(value)}"{" checked" if on else ""}> '
        f"<span>{_e(label)}</span></label>"
        for value, label, on in menu.options
    )
    if not menu.options:
        options += '<span class="muted small">None yet</span>'
    return mark_safe(  # every value above is escaped
        f'<details class="filter-menu" data-picker-menu="{name}" data-title="{title}"{" data-multi" if multi else ""}>'
        f'<summary class="btn btn-sm" data-picker-summary>{_e(menu.summary)}</summary>'
        f'<div class="filter-options" role="group" aria-label="{title}">{options}</div></details>'
    )


def choice_menu(name: str, title: str, choices: Iterable[str], current: str) -> FilterMenu:
    """A one-of toolbar menu (grouping, ordering) in the same popover as the filters."""
    return FilterMenu(name, title, [(c, c, c == current) for c in choices], multi=False)
