"""GitLab (gitlab.com or self-hosted through its API base URL): merge requests through the REST API v4."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from runners.forges.base import ChangeSet, Forge, ForgeError, PullRequest, join_patches


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

    def change_set(self, *, base_sha: str, head_sha: str, max_bytes: int) -> ChangeSet:
        # Compare between two SHAs: pinned, so a later push cannot change what was read.
        data = self.request("GET", f"/projects/{self.project}/repository/compare?from={base_sha}&to={head_sha}") or {}
        diffs = [d for d in data.get("diffs") or [] if isinstance(d, dict)]
        patches = [(str(d.get("new_path") or d.get("old_path")), str(d.get("diff") or "")) for d in diffs]
        diff, cut = join_patches(patches, max_bytes=max_bytes)
        return ChangeSet(base_sha, head_sha, [p for p, _ in patches], diff, cut)

    def _noun(self, on: str) -> str:
        return "merge_requests" if on == "pr" else "issues"

    def comment(self, *, number: int, body: str, on: str = "pr") -> str:
        data = self.request("POST", f"/projects/{self.project}/{self._noun(on)}/{number}/notes", {"body": body}) or {}
        return str(data.get("id", ""))

    def set_labels(self, *, number: int, add: list[str], remove: list[str], on: str = "pr") -> None:
        payload = {"add_labels": ",".join(add), "remove_labels": ",".join(remove)}
        self.request("PUT", f"/projects/{self.project}/{self._noun(on)}/{number}", payload)

    def commit_status(self, *, sha: str, state: str, context: str, description: str) -> None:
        gl_state = {"error": "failed", "failure": "failed"}.get(state, state)
        payload = {"state": gl_state, "name": context, "description": description[:255]}
        self.request("POST", f"/projects/{self.project}/statuses/{sha}", payload)

    def suggest(self, *, number: int, commit_sha: str, path: str, line: int, body: str, suggestion: str) -> str:
        text = f"{body}\n\n```suggestion:-0+0\n{suggestion}\n```".strip()
        position = {"position_type": "text", "base_sha": commit_sha, "head_sha": commit_sha,
                    "start_sha": commit_sha, "new_path": path, "new_line": line}  # fmt: skip
        data = (
            self.request(
                "POST",
                f"/projects/{self.project}/merge_requests/{number}/discussions",
                {"body": text, "position": position},
            )
            or {}
        )
        return str(data.get("id", ""))

    @staticmethod
    def _pr(data: dict[str, Any]) -> PullRequest:
        state = {"opened": "open", "merged": "merged", "closed": "closed", "locked": "open"}.get(
            data.get("state", ""), "open"
        )
        return PullRequest(
            int(data["iid"]), str(data.get("web_url", "")), state, str(data.get("merge_commit_sha") or "")
        )
