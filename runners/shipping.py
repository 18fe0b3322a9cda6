"""Shipping: what happens to an issue's branch when the issue is done.

The mode is the assignee's ``ship_mode``, else the org's ``settings["ship"]["mode"]``, else
``merge``:

* ``merge``: the branch merges into its target (a done child into its parent's branch, a done
  top-level issue into the base) — see :mod:`runners.merging`;
* ``pull_request``: the branch is pushed to ``settings["ship"]["remote"]`` (default ``origin``)
  and a pull request is opened on ``settings["ship"]["forge"]`` (``github`` / ``gitlab``) at
  ``api_url`` for ``repo``, with the token in the server's ``MESA_FORGE_TOKEN`` (never in a run's
  environment: :func:`runners.run_env.build_env` drops every ``MESA_*`` variable of the host);
  :func:`ship_poll` reads its state back (merged, closed, or changes requested → rework);
* ``none``: the branch stays.

A conflict moves the issue back to ``blocked`` with a system comment listing the files and wakes
the author with "rebase on <target>". Every outcome is an ``issue_shipped`` event.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from git import GitCommandError, Repo

from issues.comments import system_comment
from issues.models import Issue, Status
from issues.permissions import require_edit
from issues.services import issue_event_data
from orgs.actors import Actor
from orgs.errors import Conflict, InvalidInput
from orgs.events import EventType, event_publish
from orgs.models import Event
from runners.forges import Forge, ForgeError, forge_for
from runners.merging import merge_into
from runners.models import IssueBranch, RunMode, ShipMode, ShipState
from runners.services import run_enqueue
from runners.worktrees import repo_lock, worktree_holders

log = logging.getLogger(__name__)
SHIPPER = Actor.system("shipping")


def ship_config(org: Any) -> dict[str, Any]:
    config = (org.settings or {}).get("ship") or {}
    return config if isinstance(config, dict) else {}


def ship_mode_for(issue: Issue) -> str:
    mode = (issue.assignee.ship_mode if issue.assignee_id and issue.assignee else "") or ship_config(issue.org).get(
        "mode", ""
    )
    return mode if mode in ShipMode.values else ShipMode.MERGE


def _save(record: IssueBranch, state: str, detail: str = "", **fields: Any) -> IssueBranch:
    record.ship_state = state
    record.ship_detail = detail
    for name, value in fields.items():
        setattr(record, name, value)
    record.save(update_fields=["ship_state", "ship_detail", "updated_at", *fields])
    event_publish(
        org=record.issue.org,
        type=EventType.ISSUE_SHIPPED,
        data={"key": record.issue.key, "id": record.issue_id, "branch": record.name, "target": record.target,
              "state": state, "detail": detail[:300], "pr_url": record.pr_url},
    )  # fmt: skip
    return record


def _reopen(issue: Issue, to: str, note: str) -> None:
    """Say ``note`` on the issue and move it back from done to ``to`` (blocked or todo) — outside the
    lifecycle, only shipping does this. An issue that is not done (a human shipped it early) keeps its status."""
    system_comment(issue=issue, body=note)
    if not Issue.objects.filter(pk=issue.pk, status=Status.DONE).update(status=to, completed_at=None):
        return
    issue.status, issue.completed_at = to, None
    event_publish(
        org=issue.org,
        type=EventType.ISSUE_UPDATED,
        data=issue_event_data(issue, changes=["status"], from_status=Status.DONE),
    )


def _wake_author(issue: Issue, reason: str) -> None:
    if issue.assignee is not None:
        run_enqueue(agent=issue.assignee, issue=issue, mode=RunMode.TASK, reason=reason)


@transaction.atomic
def issue_ship(*, actor: Actor, issue: Issue, mode: str = "") -> IssueBranch | None:
    """Ship ``issue``'s branch now (``mode`` default: :func:`ship_mode_for`); None when it has no branch."""
    require_edit(actor, issue)
    record = IssueBranch.objects.select_related("issue__org", "issue__assignee").filter(issue=issue).first()
    if record is None:
        return None
    mode = mode or ship_mode_for(issue)
    if mode not in ShipMode.values:
        raise InvalidInput(f"Unknown ship mode {mode!r}; modes are {', '.join(ShipMode.values)}.", field="mode")
    if record.ship_state == ShipState.DISCARDED:
        raise Conflict(f"The branch of {issue.key} was discarded.", code="branch_discarded")
    if mode == ShipMode.NONE:
        return _save(record, ShipState.KEPT, f"{record.name} is kept (ship mode none)")
    if mode == ShipMode.PULL_REQUEST:
        return _open_pr(record)
    return _merge(record)


def _merge(record: IssueBranch) -> IssueBranch:
    issue = record.issue
    result = merge_into(repo_root=record.repo_root, branch=record.name, target=record.target)
    if result.status in ("merged", "up_to_date"):
        saved = _save(record, ShipState.MERGED, f"merged into {record.target}", merged_sha=result.sha)
        system_comment(issue=issue, body=f"Mesa merged {record.name} into {record.target} ({result.sha[:10]}).")
        return saved
    if result.status == "conflict":
        files = "\n".join(f"- {name}" for name in result.files)
        _reopen(
            issue,
            Status.BLOCKED,
            f"Merging {record.name} into {record.target} conflicts in:\n{files}\n"
            f"Nothing was merged. The author must rebase on {record.target}, resolve, and ask for review again.",
        )
        _wake_author(issue, f"rebase on {record.target}: merging {record.name} conflicts")
        return _save(record, ShipState.CONFLICT, "conflicting files: " + ", ".join(result.files))
    return _save(record, ShipState.WAITING if result.status == "waiting" else ShipState.FAILED, result.detail)


def _forge(org: Any) -> Forge:
    config = ship_config(org)
    return forge_for(
        str(config.get("forge", "github")),
        api_url=str(config.get("api_url", "")),
        repo=str(config.get("repo", "")),
        token=settings.MESA_FORGE_TOKEN,
    )


def _push(record: IssueBranch, forge: Forge, remote: str) -> None:
    repo = Repo(record.repo_root)
    url = repo.git.remote("get-url", remote)
    env = {"GIT_TERMINAL_PROMPT": "0"}  # the scheduler has no terminal: fail instead of asking for a password
    if url.startswith("http") and forge.token:
        # Through the environment, not `-c` on the command line: neither `ps` nor an error message shows it.
        env |= {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.extraHeader",
            "GIT_CONFIG_VALUE_0": forge.push_auth_header(),
        }
    with repo_lock(record.repo_root):
        refs = [record.name] + ([record.target] if record.target.startswith("mesa/") else [])  # a parent's branch
        for ref in refs:
            repo.git.execute(["git", "push", "-q", remote, f"refs/heads/{ref}:refs/heads/{ref}"], env=env)


def _sync_target(record: IssueBranch) -> str:
    """After a pull request merged on the forge: bring the local target up to the remote's (never forced)."""
    remote = str(ship_config(record.issue.org).get("remote", "origin"))
    try:
        Repo(record.repo_root).git.fetch(
            "-q", remote, f"refs/heads/{record.target}:refs/remotes/{remote}/{record.target}"
        )
    except GitCommandError as exc:
        return f"; could not fetch {record.target}: {str(exc.stderr).strip()[:300]}"
    result = merge_into(repo_root=record.repo_root, branch=f"{remote}/{record.target}", target=record.target)
    return "" if result.status in ("merged", "up_to_date") else f"; local {record.target} not updated: {result.detail}"


def _open_pr(record: IssueBranch) -> IssueBranch:
    issue = record.issue
    config = ship_config(issue.org)
    try:
        forge = _forge(issue.org)
        _push(record, forge, str(config.get("remote", "origin")))
        pr = forge.open_pr(
            head=record.name,
            base=record.target,
            title=f"{issue.key}: {issue.title}",
            body=f"{issue.description}\n\nOpened by Mesa for {issue.key}.".strip(),
        )
    except (ForgeError, GitCommandError) as exc:
        detail = str(exc.stderr if isinstance(exc, GitCommandError) else exc).strip()[:1000]
        return _save(record, ShipState.FAILED, f"could not open the pull request: {detail}")
    if record.pr_number != pr.number:
        system_comment(issue=issue, body=f"Mesa opened a pull request for {record.name}: {pr.url}")
    return _save(record, ShipState.PR_OPEN, f"pull request #{pr.number} open", pr_url=pr.url, pr_number=pr.number)


@transaction.atomic
def ship_poll_one(record: IssueBranch) -> IssueBranch:
    """Read an open pull request's state back: merged, closed, or changes requested (→ rework)."""
    issue = record.issue
    try:
        pr = _forge(issue.org).pr_state(record.pr_number or 0)
    except ForgeError as exc:
        log.warning("reading pull request %s of %s failed: %s", record.pr_number, issue.key, exc)
        return record
    if pr.state == "merged":
        system_comment(issue=issue, body=f"The pull request {record.pr_url} was merged.")
        note = _sync_target(record)
        return _save(record, ShipState.MERGED, f"pull request #{pr.number} merged{note}", merged_sha=pr.merged_sha)
    if pr.state == "closed":
        system_comment(issue=issue, body=f"The pull request {record.pr_url} was closed without merging.")
        return _save(record, ShipState.PR_CLOSED, f"pull request #{pr.number} closed")
    if pr.state == "changes_requested" and pr.review_id != record.pr_review_seen:
        _reopen(issue, Status.TODO, f"Changes were requested on {record.pr_url}:\n{pr.review_body}".strip())
        _wake_author(issue, f"changes were requested on the pull request of {issue.key}")
        return _save(record, ShipState.WORKING, "changes requested on the pull request", pr_review_seen=pr.review_id)
    return record


def ship_poll() -> int:
    """The scheduler's periodic pass: ship done issues not shipped yet (their ``issue_updated`` went by while
    no scheduler ran, or the target's checkout was in the way), then read back every open pull request;
    returns how many pull requests were read."""
    # WAITING is retried until the user's checkout no longer stands in the way; CONFLICT with a done
    # issue means the author rebased and it was approved again.
    due = (ShipState.WORKING, ShipState.WAITING, ShipState.CONFLICT)
    waiting = IssueBranch.objects.filter(ship_state__in=due, issue__status=Status.DONE)
    for record in waiting.select_related("issue__org", "issue__assignee"):
        try:
            issue_ship(actor=SHIPPER, issue=record.issue)
        except Exception:
            log.exception("shipping %s failed", record.name)
    records = list(
        IssueBranch.objects.filter(ship_state=ShipState.PR_OPEN).select_related("issue__org", "issue__assignee")
    )
    for record in records:
        ship_poll_one(record)
    return len(records)


@transaction.atomic
def issue_branch_discard(*, actor: Actor, issue: Issue) -> IssueBranch:
    """Delete the issue's branch (a human's decision); the record stays, marked discarded."""
    require_edit(actor, issue)
    record = IssueBranch.objects.select_related("issue__org").filter(issue=issue).first()
    if record is None:
        raise Conflict(f"{issue.key} has no branch.", code="no_branch")
    repo = Repo(record.repo_root)
    with repo_lock(record.repo_root):
        holder = worktree_holders(repo).get(record.name)
        if holder is not None:
            raise Conflict(f"{record.name} is checked out in {holder}; it cannot be deleted now.", code="branch_busy")
        try:
            repo.git.branch("-D", record.name)
        except GitCommandError as exc:
            if "not found" not in str(exc.stderr):
                raise Conflict(f"git could not delete {record.name}: {exc.stderr}", code="git_error") from exc
    return _save(record, ShipState.DISCARDED, f"{record.name} deleted by {actor}")


def ship_for_event(event: Event) -> IssueBranch | None:
    """The scheduler's hook: an issue that just moved to done ships (per its mode)."""
    data = event.data or {}
    if (
        event.type != EventType.ISSUE_UPDATED
        or data.get("status") != Status.DONE
        or "status" not in (data.get("changes") or [])
    ):
        return None
    issue_id = data.get("id")
    if not isinstance(issue_id, int):
        return None
    issue = Issue.objects.select_related("org", "assignee").filter(pk=issue_id).first()
    if issue is None or issue.status != Status.DONE:
        return None
    return issue_ship(actor=SHIPPER, issue=issue)
