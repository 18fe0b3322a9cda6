"""Template helpers shared by every page: markdown, status/priority icons, numbers, the SVG bar chart."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import markdown as md
import nh3
from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from archetypes.models import ArchetypePatch
from archetypes.services import archetype_patch_diff
from issues.board import FilterMenu, cards_html, menu_html, rows_html
from issues.formatting import ago, priority_icon, status_icon
from runners.readiness import agent_problem, host_runs_allowed

register = template.Library()

_MD_EXTENSIONS = ["fenced_code", "tables", "sane_lists", "nl2br"]
_ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"input"}
_ALLOWED_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "input": {"type", "checked", "disabled"},
    "li": set(nh3.ALLOWED_ATTRIBUTES.get("li", set())) | {"class"},
}
# Building a Markdown instance is the expensive part; one per process, reset between uses.
_MD = md.Markdown(extensions=_MD_EXTENSIONS, output_format="html")
_MD_LOCK = threading.Lock()


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    """Render user/agent markdown to sanitised HTML (scripts, handlers and unsafe URLs removed)."""
    if not text:
        return mark_safe("")
    return render_markdown(str(text))


def render_markdown(text: str) -> SafeString:
    """Markdown to sanitised HTML; remote images only when ``MESA_MARKDOWN_REMOTE_IMAGES`` allows them."""
    return _render(text, bool(getattr(settings, "MESA_MARKDOWN_REMOTE_IMAGES", False)))


def _image_src_allowed(value: str, remote: bool) -> bool:
    """Same-origin paths and inline ``data:image/`` always; other URLs only when remote images are allowed.

    A remote image is a tracking pixel: it tells its owner who read an agent's comment, when, from where.
    """
    lowered = value.strip().lower()
    if lowered.startswith("data:"):
        return lowered.startswith("data:image/") and not lowered.startswith("data:image/svg")
    parts = urlsplit(value.strip())
    if not parts.scheme and not parts.netloc:
        return True  # a path on this Mesa
    return remote and parts.scheme in {"http", "https"}


@lru_cache(maxsize=4096)
def _render(text: str, remote_images: bool) -> SafeString:
    """Cached: live pages re-render the same comments and transcript lines on every refresh."""
    with _MD_LOCK:
        html = _MD.reset().convert(text)
    html = _TASK_RE.sub(_task_item, html)

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "srcset":
            return None
        if tag == "img" and attribute == "src":
            return value if _image_src_allowed(value, remote_images) else None
        if attribute in {"href", "src", "cite"} and value.strip().lower().startswith("data:"):
            return None  # data: is for inline images only, never a link
        return value

    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        link_rel="noopener noreferrer nofollow",
        url_schemes=nh3.ALLOWED_URL_SCHEMES | {"data"},
        attribute_filter=attribute_filter,
    )
    return mark_safe(clean)  # sanitised by nh3 just above


# GitHub-style task lists: "- [ ] todo" / "- [x] done" become read-only checkboxes.
_TASK_RE = re.compile(r"<li>(<p>)?\[([ xX])\]\s")


def _task_item(match: re.Match[str]) -> str:
    checked = " checked" if match.group(2) in "xX" else ""
    return f'<li class="task">{match.group(1) or ""}<input type="checkbox" disabled{checked}> '


@register.filter
def markdown_inline(text: str | None) -> SafeString:
    """One line of markdown (a title): emphasis, code and links, without the paragraph around it."""
    html = str(markdown_filter(text))
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return mark_safe(html)  # already sanitised by markdown_filter


@register.filter
def payload_fields(payload: Any) -> list[tuple[str, str]]:
    """The plain values of an approval's payload (``rows: 18234``) as (label, text) pairs, for display."""
    if not isinstance(payload, dict):
        return []
    return [
        (str(key).replace("_", " "), str(value)[:300])
        for key, value in payload.items()
        if isinstance(value, (str, int, float, bool)) and value != ""
    ]


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
        # Labels count back from the newest bar, so the last one (today) always has its label; the
        # first and last labels hug the edges instead of centring, so neither is clipped.
        anchor, text_x = "middle", x + bar_w * 0.32
        if i == 0:
            anchor, text_x = "start", 0.0
        elif i == n - 1:
            anchor, text_x = "end", float(width)
        bars.append(
            (
                f"{x:.1f}",
                f"{chart_h - h:.1f}",
                f"{bar_w * 0.64:.1f}",
                f"{h:.1f}",
                f"{label}: {shown}",
                f"{text_x:.1f}",
                height - 4,
                anchor,
                text if (n - 1 - i) % max(1, label_every) == 0 else "",
            )
        )
    body = format_html_join(
        "",
        '<g><rect class="bar" x="{}" y="{}" width="{}" height="{}" rx="2"><title>{}</title></rect>'
        '<text x="{}" y="{}" text-anchor="{}">{}</text></g>',
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


@register.simple_tag
def filter_menu(menu: FilterMenu) -> SafeString:
    """A toolbar menu of the board, as ``issues/partials/filter_menu.html`` renders it (see issues.board)."""
    return menu_html(menu)


# What an activity row's object is called in a sentence ("created key …", not "created key apikey …").
OBJECT_NOUNS = {
    "apikey": "API key",
    "workblock": "work block",
    "apexblock": "apex block",
    "wikipage": "wiki page",
    "notificationchannel": "channel",
    "agentversion": "agent version",
    "backlogitem": "backlog item",
}


@register.filter
def activity_noun(activity: Any) -> str:
    """The object's noun for an activity row, or "" when the verb already says it ("requested approval")."""
    noun = OBJECT_NOUNS.get(activity.object_type, activity.object_type)
    verb = activity.verb.lower()
    if not noun or verb.endswith(noun.lower()) or verb.endswith(activity.object_type) or verb.startswith("added to"):
        return ""
    return noun


@register.filter
def activity_changes(activity: Any) -> str:
    """What an "updated" row changed: "title, priority" (the field names of ``details.changes``)."""
    changes = (activity.details or {}).get("changes") if isinstance(activity.details, dict) else None
    if not isinstance(changes, dict):
        return ""
    return ", ".join(str(name).replace("_", " ") for name in changes)


@register.filter
def humanize_status(value: Any) -> str:
    """``in_progress`` → ``in progress``."""
    return str(value).replace("_", " ")


@register.filter
def object_noun(object_type: str) -> str:
    """``workblock`` → ``work block`` (an activity row's object type, in words)."""
    return OBJECT_NOUNS.get(object_type, object_type)


# Inline SVG icons: an emoji is an empty box on a machine without an emoji font.
_ICONS = {
    "page": '<path d="M4 1.5h5.5L13 5v9.5H4z" fill="none" stroke="currentColor" stroke-width="1.3"/>'
    '<path d="M9.5 1.5V5H13M6 8h5M6 10.5h5" fill="none" stroke="currentColor" stroke-width="1.1"/>',
    "bolt": '<path d="M9 1 3 9h4.5L6.5 15 13 7H8.5z" fill="currentColor"/>',
}


@register.simple_tag
def icon(name: str, size: int = 14) -> SafeString:
    """A 16×16 inline SVG icon in the text colour (``{% icon "page" %}``)."""
    return format_html(
        '<svg class="icon" width="{}" height="{}" viewBox="0 0 16 16" aria-hidden="true">{}</svg>',
        size,
        size,
        mark_safe(_ICONS[name]),  # constant markup defined above
    )


@register.simple_tag(takes_context=True)
def needs_setup(context: Any, agent: Any) -> str:
    """Why ``agent``'s runner cannot run here ("claude is not installed"), or "" (see runners.readiness).

    ``{% needs_setup agent as problem %}``: whether host runs are allowed is read once per request, however
    many agents the page lists.
    """
    request = context.get("request")
    if request is None:
        return agent_problem(agent)
    allowed = getattr(request, "_mesa_host_runs", None)
    if allowed is None:
        allowed = host_runs_allowed()
        setattr(request, "_mesa_host_runs", allowed)  # noqa: B010 - a per-request memo on Django's request
    return agent_problem(agent, host_runs=allowed)


@register.filter
def patch_diff(patch: ArchetypePatch) -> str:
    """The unified diff an approver of an archetype patch reads (proposed vs current text)."""
    return archetype_patch_diff(patch)
