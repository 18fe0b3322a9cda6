"""Plain factory functions for tests: ``make_<noun>(**overrides)`` returns a saved row.

They go through the services where a service exists, so tests exercise the same
rules as the product.
"""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model

from agents.models import Agent
from agents.services import agent_create
from blocks.models import ApexBlock, WorkBlock
from blocks.services import apex_block_create, work_block_create
from issues.comments import do_comment_create
from issues.labels import label_create
from issues.models import Comment, Issue, Label
from issues.services import issue_create
from orgs.actors import Actor
from orgs.models import Org
from orgs.services import org_create
from runners.models import Run
from wiki.models import WikiPage
from wiki.services import wiki_page_create

_seq = itertools.count(1)
SYSTEM = Actor.system("tests")


def _n() -> int:
    return next(_seq)


def make_org(**kw: Any) -> Org:
    n = _n()
    kw.setdefault("name", f"Org {n}")
    kw.setdefault("slug", f"org-{n}")
    kw.setdefault("issue_prefix", "MESA")
    return org_create(actor=SYSTEM, **kw)


def make_agent(org: Org | None = None, **kw: Any) -> Agent:
    org = org or make_org()
    slug = kw.pop("slug", f"agent-{_n()}")
    kw.setdefault("name", slug.replace("-", " ").title())
    kw.setdefault("archetype", "backend")
    kw.setdefault("runner", "noop")
    return agent_create(actor=SYSTEM, org=org, slug=slug, **kw)


def make_ceo(org: Org | None = None, **kw: Any) -> Agent:
    kw.setdefault("slug", "ceo")
    kw.setdefault("name", "CEO")
    kw.setdefault("archetype", "ceo")
    return make_agent(org, **kw)


def make_issue(org: Org | None = None, *, actor: Actor | None = None, **kw: Any) -> Issue:
    org = org or make_org()
    kw.setdefault("title", f"Issue number {_n()}")
    return issue_create(actor=actor or SYSTEM, org=org, **kw)


def make_comment(issue: Issue, *, actor: Actor | None = None, **kw: Any) -> Comment:
    kw.setdefault("body", "A comment.")
    # A fixture, not a permission decision: any actor may be the author.
    return do_comment_create(actor=actor or SYSTEM, issue=issue, **kw)


def make_label(org: Org, **kw: Any) -> Label:
    kw.setdefault("name", f"label-{_n()}")
    return label_create(actor=SYSTEM, org=org, **kw)


def make_work_block(org: Org, **kw: Any) -> WorkBlock:
    kw.setdefault("title", f"Block {_n()}")
    return work_block_create(actor=SYSTEM, org=org, **kw)


def make_apex_block(org: Org, **kw: Any) -> ApexBlock:
    kw.setdefault("title", f"Goal {_n()}")
    return apex_block_create(actor=SYSTEM, org=org, **kw)


def make_wiki_page(org: Org, **kw: Any) -> WikiPage:
    kw.setdefault("title", f"Page {_n()}")
    return wiki_page_create(actor=SYSTEM, org=org, **kw)


def make_run(agent: Agent, **kw: Any) -> Run:
    kw.setdefault("org", agent.org)
    kw.setdefault("runner", agent.runner)
    return Run.objects.create(agent=agent, **kw)


def make_user(**kw: Any) -> Any:
    n = _n()
    kw.setdefault("username", f"user{n}")
    kw.setdefault("password", "pw-not-secret-123")
    return get_user_model().objects.create_user(**kw)


def make_issues_bulk(org: Org, n: int, **kw: Any) -> list[Issue]:
    """``n`` issues created with one bulk insert (keys and numbers continue the org's sequence).

    For size and query-count tests of list pages; bypasses the service on purpose.
    """
    from django.db.models import F

    from issues.models import Status

    start = Org.objects.filter(pk=org.pk).values_list("issue_seq", flat=True).get()
    statuses = kw.pop("statuses", list(Status.values))
    rows = [
        Issue(
            org=org,
            number=start + i + 1,
            key=f"{org.issue_prefix}-{start + i + 1}",
            title=f"Bulk issue {start + i + 1}",
            status=statuses[i % len(statuses)],
            priority=i % 5,
            **kw,
        )
        for i in range(n)
    ]
    Issue.objects.bulk_create(rows, batch_size=500)
    Org.objects.filter(pk=org.pk).update(issue_seq=F("issue_seq") + n)
    org.refresh_from_db()
    return rows
