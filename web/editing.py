"""Helpers for the issue editors (static/js/editor.js): markdown preview and "This wakes @x" notes.

``POST /markdown/preview`` renders ``description`` (or ``body``) through the same markdown filter the
issue page uses. ``GET /mentions?issue=KEY&body=…`` (a comment) or ``&description=…`` says what
each ``@mention`` would do if sent now, by ``runners.mentions`` (the dispatcher's own rule).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from issues.selectors import issue_get_for
from runners.mentions import mention_outlook
from web.access import HtmxHttpRequest, human_actor, require_org


@require_POST
def markdown_preview(request: HtmxHttpRequest) -> HttpResponse:
    require_org(request)
    text = request.POST.get("description", request.POST.get("body", ""))
    return render(request, "web/partials/markdown_preview.html", {"text": text})


@require_GET
def mentions(request: HtmxHttpRequest) -> HttpResponse:
    org = require_org(request)
    in_comment = "description" not in request.GET
    body = request.GET.get("body", "") if in_comment else request.GET.get("description", "")
    key = request.GET.get("issue", "")
    # The issue is read through its selector, so an outsider learns nothing about it.
    issue = issue_get_for(actor=human_actor(request), org=org, key=key) if key else None
    notes = mention_outlook(
        org_id=org.pk, body=body, in_comment=in_comment, issue_open=issue is None or not issue.is_terminal
    )
    return render(request, "web/partials/mention_notes.html", {"notes": notes})
