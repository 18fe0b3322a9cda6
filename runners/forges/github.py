"""GitHub (and GitHub Enterprise through its API base URL): pull requests through the REST API v3."""

from __future__ import annotations

import base64
from typing import Any

from runners.forges.base import Forge, ForgeError, PullRequest


class GitHub(Forge):
    name = "github"
    default_api_url = "https://api.github.com"

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def push_auth_header(self) -> str:
        basic = base64.b64encode(f"x-access-token:{self.token}".encode()).decode()
        return f"Authorization: Basic {basic}"

    def open_pr(self, *, head: str, base: str, title: str, body: str) -> PullRequest:
        try:
            data = self.request(
                "POST", f"/repos/{self.repo}/pulls", {"title": title, "head": head, "base": base, "body": body}
            )
        except ForgeError as exc:
            if " 422 " not in str(exc):
                raise
            # "A pull request already exists": reuse the open one of this branch.
            owner = self.repo.split("/")[0]
            found = self.request("GET", f"/repos/{self.repo}/pulls?state=open&head={owner}:{head}")
            if not found:
                raise
            data = found[0]
        return self._pr(data)

    def pr_state(self, number: int) -> PullRequest:
        data = self.request("GET", f"/repos/{self.repo}/pulls/{number}")
        pr = self._pr(data)
        if pr.state != "open":
            return pr
        reviews = self.request("GET", f"/repos/{self.repo}/pulls/{number}/reviews") or []
        # Each reviewer's latest verdict counts; comments alone change nothing.
        latest: dict[str, dict[str, Any]] = {}
        for review in reviews:
            if review.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[str((review.get("user") or {}).get("login", ""))] = review
        wanted = [r for r in latest.values() if r.get("state") == "CHANGES_REQUESTED"]
        if wanted:
            review = max(wanted, key=lambda r: int(r.get("id") or 0))
            return PullRequest(
                pr.number,
                pr.url,
                "changes_requested",
                review_id=str(review.get("id")),
                review_body=review.get("body") or "",
            )
        return pr

    @staticmethod
    def _pr(data: dict[str, Any]) -> PullRequest:
        if data.get("merged") or data.get("merged_at"):
            state = "merged"
        else:
            state = "closed" if data.get("state") == "closed" else "open"
        return PullRequest(
            int(data["number"]), str(data.get("html_url", "")), state, str(data.get("merge_commit_sha") or "")
        )
