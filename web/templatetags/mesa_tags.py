"""Template helpers shared by every page: markdown, status/priority icons, numbers, the SVG bar chart."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import markdown as md
import nh3
from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from archetypes.models import ArchetypePatch
from archetypes.services import archetype_patch_diff
from issues.board import cards_html, rows_html
from issues.formatting import ago, priority_icon, status_icon

register = template.Library()

_MD_EXTENSIONS = ["fenced_code", "tables", "sane_lists", "nl2br"]
_ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"input"}
# Building a Markdown instance is the expensive part; one per process, reset between uses.
_MD = md.Markdown(extensions=_MD_EXTENSIONS, output_format="html")
_MD_LOCK = threading.Lock()


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    """Render user/agent markdown to sanitised HTML (scripts, handlers and unsafe URLs removed)."""
    if not text:
        return mark_safe("")
    return render_markdown(str(text))


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> SafeString:
    """Cached: live pages re-render the same comments and transcript lines on every refresh."""
    with _MD_LOCK:
        html = _MD.reset().convert(text)
    clean = nh3.clean(html, tags=_ALLOWED_TAGS, link_rel="noopener noreferrer nofollow")
    return mark_safe(clean)  # sanitised by nh3 just above


# The glyphs and ages are pure helpers in issues.formatting, which the board's fast path uses too.
register.simple_tag(status_icon)
register.simple_tag(priority_icon)
register.filter(ago)


@register.filter
def tokens(value: Any) -> str:
    """12345 → 12.3k, 2500000 → 2.5M."""
    try:
        n = int(value or 0)
    except (TypeError, ValueError):
        return "0"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


@register.filter
def usd(value: Any) -> str:
    try:
        amount = Decimal(str(value or 0))
    except (ArithmeticError, ValueError):
        return "$0"
    if amount and abs(amount) < Decimal("0.01"):
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


@register.filter
def duration(seconds: Any) -> str:
    if seconds in (None, ""):
        return "—"
    s = int(float(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


@register.simple_tag
def run_duration(started: datetime | None, finished: datetime | None) -> str:
    if not started:
        return "—"
    return duration(((finished or timezone.now()) - started).total_seconds())


@register.filter
def pretty_json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def percent_of(part: Any, whole: Any) -> int:
    try:
        return max(0, min(100, round(float(part) * 100 / float(whole)))) if float(whole) else 0
    except (TypeError, ValueError):
        return 0


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def bar_chart(series: Sequence[tuple[str, Any]], height: int = 120, unit: str = "", label_every: int = 1) -> SafeString:
    """An inline SVG bar chart of (label, value) pairs; no JavaScript. Values scale to the tallest bar."""
    values = [float(v or 0) for _, v in series]
    if not values:
        return mark_safe("")
    top = max(values) or 1.0
    n = len(values)
    width = max(240, n * 22)
    bar_w = width / n
    chart_h = height - 18
    bars: list[tuple[Any, ...]] = []
    for i, ((label, _), value) in enumerate(zip(series, values, strict=True)):
        h = max(1.0 if value else 0.0, value / top * (chart_h - 4))
        x = i * bar_w + bar_w * 0.18
        shown = f"{unit}{value:,.2f}" if unit == "$" else f"{value:,.0f}{unit}"
        text = str(label)[5:] if len(str(label)) == 10 and str(label)[4] == "-" else str(label)
        bars.append(
            (
                f"{x:.1f}",
                f"{chart_h - h:.1f}",
                f"{bar_w * 0.64:.1f}",
                f"{h:.1f}",
                f"{label}: {shown}",
                f"{x + bar_w * 0.32:.1f}",
                height - 4,
                text if i % max(1, label_every) == 0 else "",
            )
        )
    body = format_html_join(
        "",
        '<g><rect class="bar" x="{}" y="{}" width="{}" height="{}" rx="2"><title>{}</title></rect>'
        '<text x="{}" y="{}" text-anchor="middle">{}</text></g>',
        bars,
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" width="100%" height="{}">'
        '<line x1="0" y1="{}" x2="{}" y2="{}" class="axis"/>{}</svg>',
        width,
        height,
        height,
        chart_h,
        width,
        chart_h,
        body,
    )


@register.filter
def diff_lines(diff: str | None) -> Iterable[tuple[str, str]]:
    """Split a unified diff into (css class, line) pairs for a readable, coloured rendering."""
    for line in (diff or "").splitlines():
        if line.startswith(("diff --git", "index ", "--- ", "+++ ")):
            kind = "meta"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        yield kind, line


@register.simple_tag(takes_context=True)
def board_cards(context: template.Context, issues: Iterable[Any]) -> SafeString:
    """The cards of one board column, built in Python: a 10,000-issue board must render in milliseconds."""
    request = context.get("request")
    query = request.GET.urlencode() if request is not None else ""
    return cards_html(issues, query=query, csrf_token=str(context.get("csrf_token", "")))


@register.simple_tag
def list_rows(issues: Iterable[Any]) -> SafeString:
    return rows_html(issues)


@register.filter
def patch_diff(patch: ArchetypePatch) -> str:
    """The unified diff an approver of an archetype patch reads (proposed vs current text)."""
    return archetype_patch_diff(patch)
