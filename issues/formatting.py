"""Pure HTML/text formatting shared by the board's fast path (issues/board.py) and the template tags.

Status and priority glyphs (inline SVG) and compact ages. They live here, below
the template tags, so the board can use them without importing the tags: the tags
import this module and issues.board, never the other way round.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from issues.models import Priority

# Status colours follow Linear: grey backlog, yellow started, green done.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "todo": ("var(--st-todo)", "ring"),
    "in_progress": ("var(--st-progress)", "half"),
    "blocked": ("var(--st-blocked)", "bang"),
    "in_review": ("var(--st-review)", "three"),
    "board_review": ("var(--st-board)", "three"),
    "done": ("var(--st-done)", "check"),
    "wont_do": ("var(--st-muted)", "cross"),
    "cancelled": ("var(--st-muted)", "cross"),
    # runs and blocks reuse the palette
    "queued": ("var(--st-todo)", "ring"),
    "running": ("var(--st-progress)", "half"),
    "completed": ("var(--st-done)", "check"),
    "failed": ("var(--st-blocked)", "cross"),
    "timed_out": ("var(--st-blocked)", "bang"),
    "budget_exceeded": ("var(--st-blocked)", "bang"),
    "proposed": ("var(--st-todo)", "ring"),
    "active": ("var(--st-progress)", "half"),
    "ready": ("var(--st-review)", "three"),
    "shipped": ("var(--st-done)", "check"),
    "pending": ("var(--st-review)", "three"),
    "approved": ("var(--st-done)", "check"),
    "rejected": ("var(--st-blocked)", "cross"),
    "paused": ("var(--st-muted)", "ring"),
    "terminated": ("var(--st-muted)", "cross"),
}


def status_icon(status: str, size: int = 14) -> SafeString:
    """A small Linear-style status glyph (inline SVG) coloured by status."""
    return _status_icon(str(status), int(size))


@lru_cache(maxsize=256)
def _status_icon(status: str, size: int) -> SafeString:
    color, shape = STATUS_STYLE.get(status, ("var(--muted)", "ring"))
    inner = {
        "ring": '<circle cx="7" cy="7" r="5.5" fill="none" stroke="currentColor" stroke-width="1.5"/>',
        "half": '<circle cx="7" cy="7" r="5.5" fill="none" stroke="currentColor" stroke-width="1.5"/>'
        '<path d="M7 3.5a3.5 3.5 0 0 1 0 7z" fill="currentColor"/>',
        "three": '<circle cx="7" cy="7" r="5.5" fill="none" stroke="currentColor" stroke-width="1.5"/>'
        '<path d="M7 3.5a3.5 3.5 0 1 1-3.03 5.25L7 7z" fill="currentColor"/>',
        "check": '<circle cx="7" cy="7" r="6.5" fill="currentColor"/>'
        '<path d="M4.2 7.2l1.9 1.9 3.7-3.9" fill="none" stroke="var(--bg)" stroke-width="1.5"/>',
        "cross": '<circle cx="7" cy="7" r="6.5" fill="currentColor"/>'
        '<path d="M4.8 4.8l4.4 4.4M9.2 4.8l-4.4 4.4" stroke="var(--bg)" stroke-width="1.5"/>',
        "bang": '<circle cx="7" cy="7" r="6.5" fill="currentColor"/>'
        '<path d="M7 3.6v4.2M7 9.6v.8" stroke="var(--bg)" stroke-width="1.6"/>',
    }[shape]
    return format_html(
        '<svg class="st-icon" width="{}" height="{}" viewBox="0 0 14 14" style="color:{}" aria-label="{}">{}</svg>',
        size,
        size,
        color,
        status,
        mark_safe(inner),  # constant markup above
    )


def priority_icon(priority: int) -> SafeString:
    """Linear's priority bars: 0 none (dashes), 1-3 bars, 4 urgent (filled square with '!'), named by Priority."""
    return _priority_icon(int(priority or 0))


@lru_cache(maxsize=16)
def _priority_icon(p: int) -> SafeString:
    label = str(dict(Priority.choices).get(p, ""))
    if p >= 4:
        inner = '<rect x="1" y="1" width="12" height="12" rx="3" fill="var(--urgent)"/>' + (
            '<path d="M7 3.8v4M7 9.6v.6" stroke="var(--bg)" stroke-width="1.7"/>'
        )
    elif p == 0:
        inner = '<path d="M2 7h2M6 7h2M10 7h2" stroke="currentColor" stroke-width="1.5" opacity=".6"/>'
    else:
        bars = []
        for i, (x, h) in enumerate(((2, 4), (6, 7), (10, 10))):
            opacity = "1" if i < p else ".3"
            bars.append(
                f'<rect x="{x}" y="{12 - h}" width="2.5" height="{h}" rx=".6" fill="currentColor" opacity="{opacity}"/>'
            )
        inner = "".join(bars)
    return format_html(
        '<svg class="pr-icon" width="14" height="14" viewBox="0 0 14 14" aria-label="{}"><title>{}</title>{}</svg>',
        label,
        label,
        mark_safe(inner),  # constant markup above
    )


def ago(value: datetime | None) -> str:
    """Compact relative time: 'now', '5m', '3h', '2d', then the date."""
    if not value:
        return ""
    delta = timezone.now() - value
    seconds = int(delta.total_seconds())
    if seconds < 45:
        return "now"
    if seconds < 3600:
        return f"{max(1, seconds // 60)}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if delta < timedelta(days=30):
        return f"{delta.days}d"
    return value.strftime("%b %d")
