"""What a payload is about (labels, branch, author, repository, the external thing) and whether a rule fits.

GitHub and GitLab name these differently; the facts here are the same for both so rules need not care.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hooks.models import Rule


@dataclass(frozen=True)
class Facts:
    repository: str = ""
    labels: list[str] = field(default_factory=list)
    branch: str = ""
    author: str = ""
    author_is_bot: bool = False
    paths: list[str] = field(default_factory=list)
    # "owner/repo#issue/12" or "group/project#merge_request/3": what later events about it share.
    external_key: str = ""
    url: str = ""
    # How a run / pipeline ended: GitHub workflow_run.conclusion, GitLab pipeline status ("failure"/"failed").
    conclusion: str = ""


def _d(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _names(items: Any) -> list[str]:
    out = []
    for item in items if isinstance(items, list) else []:
        name = item.get("name") or item.get("title") if isinstance(item, Mapping) else item
        if isinstance(name, str):
            out.append(name)
    return out


def github_facts(payload: Mapping[str, Any]) -> Facts:
    repo = str(_d(payload.get("repository")).get("full_name") or "")
    pr, issue = _d(payload.get("pull_request")), _d(payload.get("issue"))
    thing, kind = (pr, "pr") if pr else (issue, "issue")
    if issue and issue.get("pull_request"):
        kind = "pr"  # a comment on a pull request arrives as an issue_comment on its issue
    sender = _d(payload.get("sender"))
    author = str(sender.get("login") or "")
    paths: list[str] = []
    for commit in payload.get("commits") or []:
        if isinstance(commit, Mapping):
            for key in ("added", "modified", "removed"):
                paths += [p for p in commit.get(key) or [] if isinstance(p, str)]
    branch = str(_d(pr.get("head")).get("ref") or "") if pr else ""
    if not branch and isinstance(payload.get("ref"), str):
        branch = payload["ref"].removeprefix("refs/heads/")
    if not branch:
        branch = str(_d(payload.get("workflow_run")).get("head_branch") or "")
    number = thing.get("number")
    return Facts(
        repository=repo,
        labels=_names(thing.get("labels")),
        branch=branch,
        author=author,
        author_is_bot=sender.get("type") == "Bot" or author.endswith("[bot]"),
        paths=paths,
        external_key=f"{repo}#{kind}/{number}" if repo and number else "",
        url=str(thing.get("html_url") or ""),
        conclusion=str(_d(payload.get("workflow_run")).get("conclusion") or ""),
    )


def gitlab_facts(payload: Mapping[str, Any]) -> Facts:
    project = _d(payload.get("project"))
    repo = str(project.get("path_with_namespace") or "")
    attrs = _d(payload.get("object_attributes"))
    kind = str(payload.get("object_kind") or "")
    thing: Mapping[str, Any] = attrs
    if kind == "note":
        # A note is about the issue or merge request it was written on.
        thing = _d(payload.get("merge_request")) or _d(payload.get("issue"))
        kind = "merge_request" if payload.get("merge_request") else "issue"
    user = _d(payload.get("user"))
    author = str(user.get("username") or payload.get("user_username") or "")
    paths: list[str] = []
    for commit in payload.get("commits") or []:
        if isinstance(commit, Mapping):
            for key in ("added", "modified", "removed"):
                paths += [p for p in commit.get(key) or [] if isinstance(p, str)]
    branch = str(attrs.get("source_branch") or attrs.get("ref") or "")
    if not branch and isinstance(payload.get("ref"), str):
        branch = payload["ref"].removeprefix("refs/heads/")
    iid = thing.get("iid")
    labels = _names(payload.get("labels")) or _names(thing.get("labels"))
    return Facts(
        repository=repo,
        labels=labels,
        branch=branch,
        author=author,
        author_is_bot=bool(user.get("bot")) or author.endswith("-bot") or author.startswith("project_"),
        paths=paths,
        external_key=f"{repo}#{kind}/{iid}" if repo and iid else "",
        url=str(thing.get("url") or ""),
        conclusion=str(attrs.get("status") or "") if kind == "pipeline" else "",
    )


def facts_of(source: str, payload: Mapping[str, Any]) -> Facts:
    if source == "github":
        return github_facts(payload)
    if source == "gitlab":
        return gitlab_facts(payload)
    return Facts(
        repository=str(payload.get("repository") or ""),
        labels=[str(x) for x in payload.get("labels") or [] if isinstance(x, str)],
        branch=str(payload.get("branch") or ""),
        author=str(payload.get("author") or ""),
        external_key=str(payload.get("id") or payload.get("external_id") or ""),
        url=str(payload.get("url") or ""),
    )


def why_not(rule: Rule, *, source: str, events: list[str], facts: Facts) -> str:
    """Empty when ``rule`` fits this event; otherwise the first reason it does not (for the log)."""
    if rule.source != source:
        return f"source is {source}, the rule wants {rule.source}"
    if not set(rule.events or []) & set(events):
        return f"event {events[-1] if events else '(none)'} is not one of {', '.join(rule.events or []) or 'none'}"
    f = rule.filters or {}
    wanted = [str(x).lower() for x in f.get("labels_contain") or []]
    have = {x.lower() for x in facts.labels}
    missing = [x for x in wanted if x not in have]
    if missing:
        return f"label {missing[0]!r} missing"
    if f.get("branch_glob") and not fnmatch.fnmatchcase(facts.branch, str(f["branch_glob"])):
        return f"branch {facts.branch!r} does not match {f['branch_glob']!r}"
    if f.get("path_glob") and not any(fnmatch.fnmatchcase(p, str(f["path_glob"])) for p in facts.paths):
        return f"no changed path matches {f['path_glob']!r}"
    if f.get("author_not_bot") and facts.author_is_bot:
        return f"author {facts.author!r} is a bot"
    if f.get("conclusion") and str(f["conclusion"]).lower() != facts.conclusion.lower():
        return f"conclusion {facts.conclusion or '(none)'!r} is not {f['conclusion']!r}"
    if f.get("repository") and str(f["repository"]).lower() != facts.repository.lower():
        return f"repository {facts.repository!r} is not {f['repository']!r}"
    return ""
