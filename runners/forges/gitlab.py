"""GitLab (gitlab.com or self-hosted through its API base URL): merge requests through the REST API v4."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from runners.forges.base import Forge, ForgeError, PullRequest


class GitLab(Forge):
    name = "gitlab"
    default_api_url = "https://gitlab.com/api/v4"

    def headers(self) -> dict[str, str]:
        return {"PRIVATE-TOKEN": self.token}

    def push_auth_header(self) -> str:
        basic = base64.b64encode(f"oauth2:{self.token}".encode()).decode()
        return f"Authorization: Basic {basic}"

    @property
    def project(self) -> str:
        return quote(self.repo, safe="")

    def open_pr(self, *, head: str, base: str, title: str, body: str) -> PullRequest:
        payload = {"source_branch": head, "target_branch": base, "title": title, "description": body}
        try:
            data = self.request("POST", f"/projects/{self.project}/merge_requests", payload)
        except ForgeError as exc:
            if " 409 " not in str(exc):
                raise
            found = self.request(
                "GET", f"/projects/{self.project}/merge_requests?state=opened&source_branch={quote(head, safe='')}"
            )
            if not found:
                raise
            data = found[0]
        return self._pr(data)

    def pr_state(self, number: int) -> PullRequest:
        data = self.request("GET", f"/projects/{self.project}/merge_requests/{number}")
        pr = self._pr(data)
        if pr.state == "open" and data.get("detailed_merge_status") == "requested_changes":
            # GitLab has no review ids here: the last update marks this round of requested changes.
            review_id = str(data.get("updated_at") or "requested_changes")
            return PullRequest(pr.number, pr.url, "changes_requested", review_id=review_id)
        return pr

    @staticmethod
    def _pr(data: dict[str, Any]) -> PullRequest:
        state = {"opened": "open", "merged": "merged", "closed": "closed", "locked": "open"}.get(
            data.get("state", ""), "open"
        )
        return PullRequest(
            int(data["iid"]), str(data.get("web_url", "")), state, str(data.get("merge_commit_sha") or "")
        )
