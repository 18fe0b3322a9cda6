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
