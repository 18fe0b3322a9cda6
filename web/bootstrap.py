"""Create (or complete) an org from a template. Running it again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from agents.models import Agent, Runner
from agents.services import agent_create, agent_update
from issues.labels import label_create
from issues.models import Label
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.models import Org
from orgs.services import normalise_prefix, org_create
from runners.worktrees import WorkspaceError, open_repo, repo_ensure
from web.org_templates import template_get

# Template keys copied onto agents as configuration.
AGENT_KEYS = (
    "archetype",
    "max_turns",
    "timeout_s",
    "heartbeat_enabled",
    "heartbeat_interval_s",
    "daily_token_limit",
    "daily_cost_limit_usd",
    "disallowed_tools",
    "model",
)


@dataclass
class BootstrapResult:
    org: Org
    org_created: bool
    agents_created: list[str] = field(default_factory=list)
    labels_created: list[str] = field(default_factory=list)
    repo: str = ""  # the git repository the agents work in ("" = they run in place)


def default_repo_path(org_slug: str) -> str:
    """Where an org's repository is created when nobody names one: ``MESA_REPOS_DIR/<slug>``."""
    root = Path(settings.MESA_REPOS_DIR)
    root = root if root.is_absolute() else Path(settings.BASE_DIR) / root
    return str(root / (slugify(org_slug) or org_slug))


def _check_new(*, org_slug: str, org_name: str, prefix: str, repo: str, existing_repo: bool) -> None:
    """The browser's checks before anything is written: a new slug, a prefix no other org uses, a real repo."""
    if not (org_name or "").strip():
        raise InvalidInput("An org needs a name.", field="name")
    if not org_slug:
        raise InvalidInput("The org slug must contain letters or digits.", field="slug")
    if Org.objects.filter(slug=org_slug).exists():
        raise Conflict(f"An org with the slug {org_slug!r} already exists.", code="duplicate", field="slug")
    value = normalise_prefix(prefix)
    taken = Org.objects.filter(issue_prefix=value).first()
    if taken is not None:
        raise Conflict(
            f"{taken.name} already uses the prefix {value}: pick another so issue keys stay distinct.",
            code="prefix_taken",
            field="issue_prefix",
        )
    if existing_repo:
        path = Path(repo or "").expanduser()
        if not repo or not path.is_absolute():
            raise InvalidInput("Give the repository's absolute path.", field="repo")
        if not path.is_dir() or open_repo(path) is None:
            raise InvalidInput(f"{path} is not a git repository.", field="repo")


@transaction.atomic
def org_bootstrap(
    *,
    actor: Actor,
    template: str,
    org_slug: str = "mesa",
    org_name: str = "",
    prefix: str = "MESA",
    runner: str = Runner.CLAUDE_CODE,
    model: str = "",
    working_dir: str = "",
    repo: str = "",
    new_only: bool = False,
    existing_repo: bool = False,
) -> BootstrapResult:
    """Create the org if missing, then every template agent and label that does not exist yet.

    Existing agents are left exactly as they are (a human may have changed them), except that
    with ``repo`` (a git repository, created when missing) every agent without a working dir gets
    it: each run then works in its own worktree on its issue's branch, and done work merges there.

    ``new_only`` (the browser's New org page): the org must not exist yet and no other org may use
    ``prefix`` (Conflict, with the ``field`` to mark); ``existing_repo``: ``repo`` must already be a
    git repository (InvalidInput) instead of being created. Both are checked before anything is written.
    """
    if runner not in Runner.values:
        raise InvalidInput(f"Unknown runner {runner!r}; use one of {', '.join(Runner.values)}.", field="runner")
    tpl = template_get(template)
    if new_only:
        if not actor.operator:
            raise Forbidden("Creating an org is the instance operator's (a superuser, or local mode).")
        _check_new(org_slug=slugify(org_slug), org_name=org_name, prefix=prefix, repo=repo, existing_repo=existing_repo)
    if repo:
        try:
            working_dir = str(repo_ensure(repo))
        except (WorkspaceError, OSError) as exc:
            raise InvalidInput(f"Cannot use {repo} as the org's repository: {exc}", field="repo") from exc
    # The same normalisation org_create applies, so "--org 'My Team'" finds its org on the next run.
    org_slug = slugify(org_slug) or org_slug
    org = Org.objects.filter(slug=org_slug).first()
    created = org is None
    if org is None:
        org = org_create(
            actor=actor, name=org_name or org_slug.replace("-", " ").title(), slug=org_slug, issue_prefix=prefix
        )
    else:
        normalise_prefix(prefix)  # still reject a malformed --prefix loudly
    result = BootstrapResult(org=org, org_created=created, repo=working_dir if repo else "")

    existing = {a.slug: a for a in Agent.objects.filter(org=org)}
    if repo:
        for current in existing.values():
            if not current.working_dir:
                agent_update(
                    actor=actor, agent=current, note="bootstrap: the org's repository", working_dir=working_dir
                )
    new: dict[str, Agent] = {}
    for spec in tpl.agents:
        slug = str(spec["slug"])
        if slug in existing:
            continue
        config = {k: spec[k] for k in AGENT_KEYS if k in spec}
        if model and "model" not in config:
            config["model"] = model
        new[slug] = agent_create(
            actor=actor,
            org=org,
            slug=slug,
            name=str(spec.get("name", slug)),
            runner=runner,
            working_dir=working_dir,
            **config,
        )
        result.agents_created.append(slug)
    everyone = {**existing, **new}
    for spec in tpl.agents:
        agent = new.get(str(spec["slug"]))
        if agent is None:
            continue
        links = {}
        for key in ("reports_to", "review_agent"):
            ref = str(spec.get(key) or "")
            if ref:
                if ref not in everyone:
                    raise InvalidInput(f"Template {tpl.slug}: {agent.slug}.{key} names unknown agent {ref!r}.")
                links[key] = everyone[ref]
        if links:
            agent_update(actor=actor, agent=agent, note="bootstrap reporting lines", **links)

    known = {name.lower() for name in Label.objects.filter(org=org).values_list("name", flat=True)}
    for spec in tpl.labels:
        name = str(spec.get("name", ""))
        if name and name.lower() not in known:
            label_create(actor=actor, org=org, name=name, color=str(spec.get("color", "#8b8d98")))
            result.labels_created.append(name)
    return result
