"""Payloads shaped like the providers' documented webhook examples (trimmed to the fields Mesa reads)."""

from __future__ import annotations

from typing import Any


def github_issue_opened(
    *, number: int = 1347, labels: tuple[str, ...] = ("agent",), login: str = "octocat"
) -> dict[str, Any]:
    return {
        "action": "opened",
        "issue": {
            "url": f"https://api.github.com/repos/octocat/Hello-World/issues/{number}",
            "html_url": f"https://github.com/octocat/Hello-World/issues/{number}",
            "id": 1,
            "number": number,
            "title": "Found a bug",
            "user": {"login": login, "id": 1, "type": "User"},
            "labels": [{"id": 208045946, "name": name, "color": "f29513", "default": True} for name in labels],
            "state": "open",
            "body": "I'm having a problem with this.",
        },
        "repository": {"id": 1296269, "name": "Hello-World", "full_name": "octocat/Hello-World", "private": False},
        "sender": {"login": login, "id": 1, "type": "User"},
    }


def github_issue_comment(*, number: int = 1347, body: str = "Me too") -> dict[str, Any]:
    payload = github_issue_opened(number=number)
    payload["action"] = "created"
    payload["comment"] = {"id": 99, "body": body, "user": {"login": "hubot", "type": "User"}}
    return payload


def gitlab_issue_open(*, iid: int = 23, labels: tuple[str, ...] = ("agent",)) -> dict[str, Any]:
    return {
        "object_kind": "issue",
        "event_type": "issue",
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": {
            "id": 1,
            "name": "Gitlab Test",
            "path_with_namespace": "gitlabhq/gitlab-test",
            "web_url": "http://example.com/gitlabhq/gitlab-test",
        },  # fmt: skip
        "object_attributes": {
            "id": 301,
            "iid": iid,
            "title": "New API: create/update/delete file",
            "description": "Create new API for manipulations with repository",
            "state": "opened",
            "action": "open",
            "url": f"http://example.com/diaspora/issues/{iid}",
        },
        "labels": [{"id": 206, "title": name} for name in labels],
    }


BASE_SHA = "9049f1265b7d61be4a8904a9a27120d2064dab3b"
HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def github_pull_request_opened(*, number: int = 2, action: str = "opened") -> dict[str, Any]:
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/Codertocat/Hello-World/pulls/{number}",
            "html_url": f"https://github.com/Codertocat/Hello-World/pull/{number}",
            "number": number,
            "state": "open",
            "title": "Update the README with new information.",
            "user": {"login": "Codertocat", "type": "User"},
            "body": "This is a pretty simple change that we need to pull into master.",
            "labels": [],
            "head": {"label": "Codertocat:changes", "ref": "changes", "sha": HEAD_SHA},
            "base": {"label": "Codertocat:master", "ref": "master", "sha": BASE_SHA},
        },
        "repository": {"id": 186853002, "name": "Hello-World", "full_name": "Codertocat/Hello-World"},
        "sender": {"login": "Codertocat", "type": "User"},
    }


GL_BASE = "ae73cb07c9eeaf35924a10f713b364d32b2dd34f"
GL_HEAD = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"


def gitlab_merge_request_open(*, iid: int = 1, action: str = "open") -> dict[str, Any]:
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": {"id": 1, "name": "Gitlab Test", "path_with_namespace": "gitlabhq/gitlab-test"},
        "object_attributes": {
            "id": 99,
            "iid": iid,
            "target_branch": "master",
            "source_branch": "ms-viewport",
            "title": "MS-Viewport",
            "state": "opened",
            "action": action,
            "url": f"http://example.com/diaspora/merge_requests/{iid}",
            "last_commit": {"id": GL_HEAD, "message": "fixed readme"},
            "diff_refs": {"base_sha": GL_BASE, "head_sha": GL_HEAD, "start_sha": GL_BASE},
        },
        "labels": [{"id": 206, "title": "API"}],
    }
