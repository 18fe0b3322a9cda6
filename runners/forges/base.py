"""The interface every forge client implements, and the JSON-over-HTTP helper they share."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT_S = 15


class ForgeError(Exception):
    """The forge refused or could not be reached; the message says why (never the token)."""


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    # open | merged | closed | changes_requested
    state: str
    merged_sha: str = ""
    review_id: str = ""  # the review that requested changes (so it is acted on once)
    review_body: str = ""


@dataclass(frozen=True)
class ChangeSet:
    """What a pull request changes between two pinned commits: the files and a unified diff (size-capped)."""

    base_sha: str
    head_sha: str
    files: list[str]
    diff: str
    truncated: bool = False


def join_patches(patches: list[tuple[str, str]], *, max_bytes: int) -> tuple[str, bool]:
    """``diff --git`` sections of (path, patch) pairs, cut at ``max_bytes`` (then True)."""
    out: list[str] = []
    size = 0
    for path, patch in patches:
        section = f"diff --git a/{path} b/{path}\n{patch.rstrip()}\n"
        if size + len(section.encode()) > max_bytes:
            return "".join(out), True
        out.append(section)
        size += len(section.encode())
    return "".join(out), False


class Forge:
    """A forge's pull requests: open one for a branch, read its state back."""

    name = ""
    default_api_url = ""

    def __init__(self, *, api_url: str, repo: str, token: str) -> None:
        self.api_url = (api_url or self.default_api_url).rstrip("/")
        self.repo = repo
        self.token = token

    def open_pr(self, *, head: str, base: str, title: str, body: str) -> PullRequest:
        raise NotImplementedError

    def pr_state(self, number: int) -> PullRequest:
        raise NotImplementedError

    # -- read a change and write back (the hooks app: hydration and agents' write-back through Mesa) --
    def change_set(self, *, base_sha: str, head_sha: str, max_bytes: int) -> ChangeSet:
        raise NotImplementedError

    def comment(self, *, number: int, body: str, on: str = "pr") -> str:
        """Comment on pull request (``on="pr"``) or issue ``number``; returns the comment's URL."""
        raise NotImplementedError

    def set_labels(self, *, number: int, add: list[str], remove: list[str], on: str = "pr") -> None:
        raise NotImplementedError

    def commit_status(self, *, sha: str, state: str, context: str, description: str) -> None:
        """``state``: success, failure, pending or error."""
        raise NotImplementedError

    def suggest(self, *, number: int, commit_sha: str, path: str, line: int, body: str, suggestion: str) -> str:
        """A review comment on ``path``:``line`` proposing ``suggestion`` as the new text."""
        raise NotImplementedError

    def push_auth_header(self) -> str:
        """The HTTP header that authenticates a ``git push`` over HTTPS with the token."""
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(f"{self.api_url}{path}", data=data, method=method)
        for key, value in {"Content-Type": "application/json", "Accept": "application/json", **self.headers()}.items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode(errors="replace")
            raise ForgeError(f"{self.name} answered {exc.code} to {method} {path}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ForgeError(f"{self.name} at {self.api_url} could not be reached: {exc}") from exc
        return json.loads(raw) if raw else None
