"""The command palette's server side: ranked fuzzy search and issue actions.

``GET /palette/search?q=&org=[&types=issue,agent,wiki,page]`` returns
``[{"type", "key", "title", "url"}]`` best first. Matching is fzf-like: every
query token must appear in order (a subsequence) in the candidate, and the score
rewards matches at word starts, consecutive runs and an early first match. The
database does the prefiltering with the same subsequence rule as a ``LIKE``
pattern (``%f%i%x%``), so with 10,000 issues only the rows that can match reach
Python.

``POST /palette/action`` (JSON ``{"org", "issue", "action", "value"}``, CSRF
protected) changes the current issue through the issue services as the human
in the browser (``cancel_run`` cancels the issue's latest queued or running run);
refused moves come back with the service's status and reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Lookup, Q
from django.http import HttpRequest, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from issues.models import Issue, Priority, Status
from issues.services import issue_transition, issue_update
from orgs.errors import Forbidden, InvalidInput, MesaError, NotFound
from orgs.models import Org, OrgRole
from orgs.selectors import org_role, orgs_visible
from runners.models import ACTIVE_RUN_STATUSES, Run
from runners.services import run_cancel, scheduler_set_paused, scheduler_state_message
from web.access import current_org, human_actor, login_required_here
from web.fuzzy import score, tokenize
from web.local_login import has_local_session, local_session_required
from wiki.models import WikiPage

LIMIT = 30
ISSUE_CANDIDATES = 400
OTHER_CANDIDATES = 300
TYPES = ("page", "issue", "agent", "wiki")
KEY_RE = re.compile(r"^(?:([a-z][a-z0-9]{0,9})-?)?(\d+)$")

# (title, url name, fallback path, extra words to match)
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("Dashboard", "web:dashboard", "/", "home"),
    ("Board", "issues:board", "/issues/", "issues kanban"),
    ("Agents", "agents:list", "/agents/", "team"),
    ("Org chart", "agents:chart", "/agents/chart/", "reporting tree"),
    ("Work blocks", "blocks:list", "/blocks/", "sprints"),
    ("Strategy", "blocks:strategy", "/strategy/", "apex alignment"),
    ("Approvals", "approvals:inbox", "/approvals/", "inbox"),
    ("Wiki", "wiki:list", "/wiki/", "docs"),
    ("Activity", "web:activity", "/activity/", "audit"),
    ("Usage", "web:usage", "/usage/", "tokens cost"),
    ("Settings", "web:settings", "/settings/", "org"),
)


@CharField.register_lookup
class Subsequence(Lookup):
    """``field__subseq="fix"``: the characters in order, case-insensitively (``LIKE '%f%i%x%'``)."""

    lookup_name = "subseq"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        pattern = "%" + "".join(("\\" + c if c in "%_\\" else c) + "%" for c in str(self.rhs))
        op = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return f"{lhs} {op} %s ESCAPE '\\'", [*lhs_params, pattern]


# -- search ------------------------------------------------------------------------------


@dataclass
class Hit:
    score: int
    type: str
    key: str
    title: str
    url: str

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "key": self.key, "title": self.title, "url": self.url}


def _url(name: str, fallback: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def _subseq_filter(fields: tuple[str, ...], tokens: list[str]) -> Q:
    query = Q()
    for token in tokens:
        either = Q()
        for f in fields:
            either |= Q(**{f"{f}__subseq": token})
        query &= either
    return query


def search_issues(org: Org, tokens: list[str]) -> list[Hit]:
    base = Issue.objects.filter(org=org, archived_at__isnull=True)
    m = KEY_RE.match(tokens[0]) if len(tokens) == 1 else None
    if m and m.group(1) in (None, org.issue_prefix.lower()):
        # "ACME-12" / "12": an exact key is always the first hit.
        exact = base.filter(number=int(m.group(2))).values_list("key", "title").first()
        hits = (
            [Hit(1000, "issue", exact[0], exact[1], _url("issues:detail", f"/issues/{exact[0]}/", exact[0]))]
            if exact
            else []
        )
        if tokens[0].isdigit() or exact:
            return hits
    rows = (
        base.filter(_subseq_filter(("key", "title"), tokens))
        .order_by("-updated_at")
        .values_list("key", "title", "status")[:ISSUE_CANDIDATES]
    )
    hits = []
    for key, title, status in rows:
        s = score(tokens, title, key, malus=(0, 8))
        if s is None:
            continue
        if status in (Status.DONE, Status.WONT_DO, Status.CANCELLED):
            s -= 8  # open work first
        hits.append(Hit(s, "issue", key, title, _url("issues:detail", f"/issues/{key}/", key)))
    return hits


def search_agents(org: Org, tokens: list[str]) -> list[Hit]:
    rows = (
        Agent.objects.filter(org=org)
        .filter(_subseq_filter(("name", "slug", "archetype"), tokens))
        .values_list("slug", "name", "archetype")[:OTHER_CANDIDATES]
    )
    hits = []
    for slug, name, archetype in rows:
        s = score(tokens, name, slug, archetype, malus=(0, 2, 8))
        if s is not None:
            hits.append(Hit(s + 4, "agent", slug, name, _url("agents:detail", f"/agents/{slug}/", slug)))
    return hits


def search_wiki(org: Org, tokens: list[str]) -> list[Hit]:
    rows = (
        WikiPage.objects.filter(org=org, deleted_at__isnull=True)
        .filter(_subseq_filter(("title", "slug"), tokens))
        .order_by("-updated_at")
        .values_list("slug", "title")[:OTHER_CANDIDATES]
    )
    hits = []
    for slug, title in rows:
        s = score(tokens, title, slug, malus=(0, 4))
        if s is not None:
            hits.append(Hit(s, "wiki", slug, title, _url("wiki:page", f"/wiki/{slug}/", slug)))
    return hits


def search_pages(tokens: list[str]) -> list[Hit]:
    hits = []
    for title, name, fallback, words in PAGES:
        s = score(tokens, title, words) if tokens else 0
        if s is not None:
            hits.append(Hit(s + 6, "page", name.split(":")[-1], title, _url(name, fallback)))
    return hits


def palette_search(*, org: Org, q: str, types: Iterable[str] = TYPES, limit: int = LIMIT) -> list[dict[str, str]]:
    """The ranked hits for ``q`` in ``org``; an empty query lists the pages and the latest issues."""
    tokens = tokenize(q)
    wanted = set(types)
    hits: list[Hit] = []
    if "page" in wanted:
        hits += search_pages(tokens)
    if not tokens:
        if "issue" in wanted:
            recent = (
                Issue.objects.filter(org=org, archived_at__isnull=True)
                .order_by("-updated_at")
                .values_list("key", "title")[:10]
            )
            hits += [Hit(0, "issue", k, t, _url("issues:detail", f"/issues/{k}/", k)) for k, t in recent]
        if "agent" in wanted:
            agents = Agent.objects.filter(org=org).order_by("name").values_list("slug", "name")[:50]
            hits += [Hit(0, "agent", s, n, _url("agents:detail", f"/agents/{s}/", s)) for s, n in agents]
        return [h.as_dict() for h in hits[:limit]]
    if "issue" in wanted:
        hits += search_issues(org, tokens)
    if "agent" in wanted:
        hits += search_agents(org, tokens)
    if "wiki" in wanted:
        hits += search_wiki(org, tokens)
    hits.sort(key=lambda h: (-h.score, len(h.title), h.key))
    return [h.as_dict() for h in hits[:limit]]


# -- views -------------------------------------------------------------------------------


def _error(exc: MesaError) -> JsonResponse:
    return JsonResponse({"ok": False, "message": exc.message, **exc.as_dict()}, status=exc.status)


def _denied(request: HttpRequest) -> JsonResponse | None:
    if (login_required_here() and not request.user.is_authenticated) or (
        local_session_required() and not has_local_session(request)
    ):
        return JsonResponse({"ok": False, "error": "Log in first.", "code": "not_authenticated"}, status=401)
    return None


def _org(request: HttpRequest, slug: str) -> Org:
    """The org named by ``slug`` (among those the visitor may see in login mode), else the current org."""
    visible = orgs_visible(request.user) if login_required_here() else Org.objects.all()
    org = visible.filter(slug=slug).first() if slug else current_org(request)
    if org is None:
        raise NotFound(f"There is no org {slug!r}." if slug else "There is no org yet.")
    return org


@require_GET
def search(request: HttpRequest) -> JsonResponse:
    if (denied := _denied(request)) is not None:
        return denied
    try:
        org = _org(request, request.GET.get("org", ""))
    except MesaError as exc:
        return _error(exc)
    types = [t for t in request.GET.get("types", "").split(",") if t in TYPES] or list(TYPES)
    return JsonResponse(palette_search(org=org, q=request.GET.get("q", ""), types=types), safe=False)


ACTIONS = ("status", "assign", "priority", "cancel_run", "pause_scheduler", "resume_scheduler")


@require_POST
def action(request: HttpRequest) -> JsonResponse:
    """Perform one palette action; ``{"ok": true, "message"}`` or the service's error and status."""
    if (denied := _denied(request)) is not None:
        return denied
    try:
        payload = json.loads(request.body or b"{}") if request.content_type == "application/json" else request.POST
        if not isinstance(payload, dict) and not hasattr(payload, "get"):
            raise InvalidInput("Send a JSON object.")
        org = _org(request, str(payload.get("org", "") or ""))
        if login_required_here() and org_role(request.user, org) not in {OrgRole.OWNER, OrgRole.MEMBER}:
            raise Forbidden("You are a viewer in this org: viewers can look but not change anything.", code="viewer")
        name = str(payload.get("action", ""))
        value = payload.get("value")
        if name not in ACTIONS:
            raise InvalidInput(f"Unknown action {name!r}; actions are {', '.join(ACTIONS)}.", field="action")
        actor = human_actor(request)
        if name in ("pause_scheduler", "resume_scheduler"):
            return JsonResponse({"ok": True, "message": _scheduler(name, org=org, actor=actor)})
        key = str(payload.get("issue", "") or "")
        issue = Issue.objects.select_related("org", "assignee").filter(org=org, key=key).first()
        if issue is None:
            raise NotFound(f"There is no issue {key!r} in {org.name}." if key else "Open an issue first.")
        return JsonResponse({"ok": True, "message": _apply(issue, name, value, actor=actor)})
    except ValueError:
        return _error(InvalidInput("The body is not valid JSON."))
    except MesaError as exc:
        return _error(exc)


def _apply(issue: Issue, name: str, value: Any, *, actor: Any) -> str:
    if name == "status":
        if value not in Status.values:
            raise InvalidInput(f"Unknown status {value!r}.", field="value")
        issue_transition(actor=actor, issue=issue, to=str(value))
        return f"{issue.key} is now {Status(value).label}."
    if name == "priority":
        try:
            priority = Priority(int(value))
        except (TypeError, ValueError) as exc:
            raise InvalidInput("Priority must be 0 (none) to 4 (urgent).", field="value") from exc
        issue_update(actor=actor, issue=issue, priority=int(priority))
        return f"{issue.key} priority: {priority.label}."
    if name == "cancel_run":
        run = (
            Run.objects.select_related("agent", "issue", "org")
            .filter(issue=issue, status__in=ACTIVE_RUN_STATUSES)
            .order_by("-id")
            .first()
        )
        if run is None:
            raise NotFound(f"No run of {issue.key} is queued or running.")
        run = run_cancel(actor=actor, run=run)
        return f"Run #{run.pk} cancelled." if run.is_finished else f"Run #{run.pk} is being stopped."
    # assign: an agent slug, or empty to unassign
    agent = None
    if value:
        agent = Agent.objects.filter(org=issue.org, slug=str(value)).first()
        if agent is None:
            raise NotFound(f"There is no agent {value!r}.")
    issue_update(actor=actor, issue=issue, assignee=agent)
    return f"{issue.key} assigned to {agent.name}." if agent else f"{issue.key} is unassigned."


def _scheduler(name: str, *, org: Org, actor: Any) -> str:
    # The scheduler is one per installation, not per org.
    return scheduler_state_message(scheduler_set_paused(actor=actor, paused=name == "pause_scheduler"))
