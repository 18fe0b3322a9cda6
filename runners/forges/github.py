"""GitHub (and GitHub Enterprise through its API base URL): pull requests through the REST API v3."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from runners.forges.base import ChangeSet, Forge, ForgeError, PullRequest, join_patches


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

    def change_set(self, *, base_sha: str, head_sha: str, max_bytes: int) -> ChangeSet:
        # The compare endpoint between two SHAs: pinned, so a later push cannot change what was read.
        data = self.request("GET", f"/repos/{self.repo}/compare/{base_sha}...{head_sha}") or {}
        files = [f for f in data.get("files") or [] if isinstance(f, dict)]
        diff, cut = join_patches(
            [(str(f.get("filename")), str(f.get("patch") or "")) for f in files], max_bytes=max_bytes
        )
        return ChangeSet(base_sha, head_sha, [str(f.get("filename")) for f in files], diff, cut)

    def comment(self, *, number: int, body: str, on: str = "pr") -> str:
        # Pull requests are issues for conversation comments on GitHub.
        data = self.request("POST", f"/repos/{self.repo}/issues/{number}/comments", {"body": body}) or {}
        return str(data.get("html_url", ""))

    def set_labels(self, *, number: int, add: list[str], remove: list[str], on: str = "pr") -> None:
        if add:
            self.request("POST", f"/repos/{self.repo}/issues/{number}/labels", {"labels": add})
        for name in remove:
            self.request("DELETE", f"/repos/{self.repo}/issues/{number}/labels/{quote(name, safe='')}")

    def commit_status(self, *, sha: str, state: str, context: str, description: str) -> None:
        payload = {"state": state, "context": context, "description": description[:140]}
        self.request("POST", f"/repos/{self.repo}/statuses/{sha}", payload)

    def suggest(self, *, number: int, commit_sha: str, path: str, line: int, body: str, suggestion: str) -> str:
        text = f"{body}\n\n```suggestion\n{suggestion}\n```".strip()
        payload = {"body": text, "commit_id": commit_sha, "path": path, "line": line, "side": "RIGHT"}
        data = self.request("POST", f"/repos/{self.repo}/pulls/{number}/comments", payload) or {}
        return str(data.get("html_url", ""))

    @staticmethod
    def _pr(data: dict[str, Any]) -> PullRequest:
        if data.get("merged") or data.get("merged_at"):
            state = "merged"
        else:
            state = "closed" if data.get("state") == "closed" else "open"
        return PullRequest(
            int(data["number"]), str(data.get("html_url", "")), state, str(data.get("merge_commit_sha") or "")
        )
