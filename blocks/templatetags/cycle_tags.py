"""Template helpers for work blocks as cycles: the burndown chart (inline SVG, no JavaScript) and "ends in"."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    # Annotations only: the chart draws what the view computed (issues.burndown).
    from issues.burndown import Burndown

register = template.Library()

WIDTH, HEIGHT = 800, 220
LEFT, RIGHT, TOP, BOTTOM = 28, 12, 16, 20


def _short(day: date) -> str:
    return f"{day:%b} {day.day}"


@register.simple_tag
def burndown_chart(burndown: Burndown) -> SafeString:
    """The burndown: the ideal line (start scope → 0 on the last day), the open issues per day, the scope.

    Each day's point carries ``data-day``, ``data-remaining`` and ``data-scope``; a day whose scope
    changed is labelled ``+n``/``−n`` above the scope line.
    """
    span = max(1, burndown.span)
    days = burndown.days
    top = max([burndown.start_scope, *(d.scope for d in days), 1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + i * plot_w / span

    def y(value: float) -> float:
        return TOP + (1 - value / top) * plot_h

    ideal = format_html(
        '<line class="ideal" x1="{}" y1="{}" x2="{}" y2="{}"><title>Ideal: {} to 0 by {}</title></line>',
        f"{x(0):.1f}",
        f"{y(burndown.start_scope):.1f}",
        f"{x(span):.1f}",
        f"{y(0):.1f}",
        burndown.start_scope,
        _short(burndown.end),
    )
    # The scope as a step line: flat through each day, stepping where issues came in or went out.
    scope_points: list[str] = []
    for i, d in enumerate(days):
        if scope_points:
            scope_points.append(f"{x(i):.1f},{y(days[i - 1].scope):.1f}")
        scope_points.append(f"{x(i):.1f},{y(d.scope):.1f}")
    actual = " ".join(f"{x(i):.1f},{y(d.remaining):.1f}" for i, d in enumerate(days))
    points = format_html_join(
        "",
        '<circle class="point" cx="{}" cy="{}" r="3" data-day="{}" data-remaining="{}" data-scope="{}">'
        "<title>{}: {} open of {}</title></circle>",
        (
            (f"{x(i):.1f}", f"{y(d.remaining):.1f}", d.day.isoformat(), d.remaining, d.scope, _short(d.day))
            + (d.remaining, d.scope)
            for i, d in enumerate(days)
        ),
    )
    marks: list[tuple[str, str, str, str, str, str]] = []
    for i, d in enumerate(days):
        if i and (d.added or d.removed):
            label = " ".join(
                part for part in (f"+{d.added}" if d.added else "", f"−{d.removed}" if d.removed else "") if part
            )
            at = (f"{x(i):.1f}", f"{max(10.0, y(d.scope) - 5):.1f}")
            marks.append((*at, d.day.isoformat(), label, _short(d.day), label))
    changes = format_html_join(
        "",
        '<text class="scope-change" x="{}" y="{}" text-anchor="middle" data-day="{}">{}'
        "<title>{}: scope {}</title></text>",
        marks,
    )
    labels = format_html(
        '<text x="{}" y="{}" text-anchor="start">{}</text><text x="{}" y="{}" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text>',
        f"{x(0):.1f}",
        HEIGHT - 5,
        _short(burndown.start),
        f"{x(span):.1f}",
        HEIGHT - 5,
        _short(burndown.end),
        LEFT - 6,
        f"{TOP + 4:.1f}",
        top,
        LEFT - 6,
        f"{y(0) + 3:.1f}",
    )
    scope_line = (
        format_html('<polyline class="scope" points="{}"/>', " ".join(scope_points)) if scope_points else mark_safe("")
    )
    today = (timezone.localdate() - burndown.start).days
    today_mark = (
        format_html(
            '<line class="today" x1="{}" y1="{}" x2="{}" y2="{}"/>'
            '<text x="{}" y="{}" text-anchor="middle">today</text>',
            f"{x(today):.1f}",
            TOP,
            f"{x(today):.1f}",
            f"{y(0):.1f}",
            f"{x(today):.1f}",
            TOP - 5,
        )
        if 0 < today < span
        else mark_safe("")
    )
    actual_line = format_html('<polyline class="actual" points="{}"/>', actual) if days else mark_safe("")
    return format_html(
        '<svg class="chart burndown" viewBox="0 0 {} {}" role="img" width="100%" aria-label="Burndown: {} open of {}">'
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>{}{}{}{}{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        days[-1].remaining if days else burndown.start_scope,
        days[-1].scope if days else burndown.start_scope,
        LEFT,
        f"{y(0):.1f}",
        WIDTH - RIGHT,
        f"{y(0):.1f}",
        labels,
        today_mark,
        ideal,
        scope_line,
        actual_line,
        points,
        changes,
    )


@register.filter
def cycle_when(block: object) -> str:
    """ "starts in 2 days", "ends in 3 days", "ends today", "ended 4 days ago"; "" without dates."""
    start: date | None = getattr(block, "start_date", None)
    end: date | None = getattr(block, "end_date", None)
    today = timezone.localdate()

    def days(n: int) -> str:
        return f"{n} day{'s' if n != 1 else ''}"

    if start is not None and today < start:
        return f"starts in {days((start - today).days)}"
    if end is None:
        return ""
    left = (end - today).days
    if left > 0:
        return f"ends in {days(left)}"
    if left == 0:
        return "ends today"
    return f"ended {days(-left)} ago"
