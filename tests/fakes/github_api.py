"""A fake GitHub REST API (v3) server on loopback, speaking the real wire format for pull requests.

Routes (``{o}/{r}`` any owner/repository):

* ``POST /repos/{o}/{r}/pulls`` ``{"title", "head", "base", "body"}`` → ``201`` with the pull
  request; a second open one for the same head → ``422 {"message": "Validation Failed",
  "errors": [{"resource": "PullRequest", "code": "custom", "message": "A pull request already
  exists for o:head."}]}``;
* ``GET /repos/{o}/{r}/pulls?state=open&head=o:branch`` → the matching pull requests;
* ``GET /repos/{o}/{r}/pulls/{n}`` → the pull request (``state`` open/closed, ``merged``,
  ``merged_at``, ``merge_commit_sha``, ``html_url``);
* ``GET /repos/{o}/{r}/pulls/{n}/reviews`` → its reviews (``id``, ``user.login``, ``state``
  APPROVED / CHANGES_REQUESTED / COMMENTED, ``body``);
* ``GET /repos/{o}/{r}/compare/{base}...{head}`` → ``{"files": [{"filename", "status", "patch"}]}``
  from :attr:`compares` (set by the test), 404 for an unknown pair;
* ``POST /repos/{o}/{r}/issues/{n}/comments`` ``{"body"}`` → ``201`` comment with ``html_url``;
* ``POST /repos/{o}/{r}/issues/{n}/labels`` ``{"labels"}`` and ``DELETE .../labels/{name}``;
* ``POST /repos/{o}/{r}/statuses/{sha}`` ``{"state", "context", "description"}``;
* ``POST /repos/{o}/{r}/pulls/{n}/comments`` (a review comment, e.g. a suggestion).

A request without ``Authorization: Bearer <token>`` (or ``token <token>``) for a known token
gets ``401 {"message": "Bad credentials"}``. Tests act as the humans on GitHub with
:meth:`merge`, :meth:`close` and :meth:`review`, and read ``calls``.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    authorization: str


@dataclass
class FakeGitHub:
    tokens: set[str] = field(default_factory=lambda: {"ghp_fake_token"})
    calls: list[Call] = field(default_factory=list)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # "base...head" → the files of the compare answer; what the test says the change is.
    compares: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[int, list[str]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._numbers = itertools.count(1)
        self._review_ids = itertools.count(9001)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- server ---------------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def do_DELETE(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    self._send(400, {"message": "Problems parsing JSON"})
                    return
                status, answer = fake.handle(self.command, self.path, body, self.headers.get("Authorization", ""))
                self._send(status, answer)

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- the humans on GitHub -------------------------------------------------------------------
    def merge(self, number: int, sha: str = "f" * 40) -> None:
        with self._lock:
            pr = self.pulls[number]
            pr.update(state="closed", merged=True, merged_at="2026-11-29T01:00:00Z", merge_commit_sha=sha)

    def close(self, number: int) -> None:
        with self._lock:
            self.pulls[number].update(state="closed", closed_at="2026-11-29T01:00:00Z")

    def review(self, number: int, state: str, body: str = "", login: str = "octo-reviewer") -> None:
        with self._lock:
            self.reviews.setdefault(number, []).append(
                {"id": next(self._review_ids), "user": {"login": login}, "state": state, "body": body,
                 "submitted_at": "2026-11-29T01:00:00Z"}
            )  # fmt: skip

    # -- the API ----------------------------------------------------------------------------------
    def handle(self, method: str, path: str, body: dict[str, Any], authorization: str) -> tuple[int, Any]:
        self.calls.append(Call(method, path, body, authorization))
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "token") or token not in self.tokens:
            return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        written = self._write_back(method, url.path, body)
        if written is not None:
            return written
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/pulls(?:/(\d+)(/reviews)?)?", url.path)
        if m is None:
            return 404, {"message": "Not Found"}
        owner, repo, number, reviews = m.group(1), m.group(2), m.group(3), m.group(4)
        with self._lock:
            if method == "POST" and number is None:
                return self._create(owner, repo, body)
            if method == "GET" and number is None:
                head = query.get("head", "")
                state = query.get("state", "open")
                found = [
                    p
                    for p in self.pulls.values()
                    if (not head or f"{owner}:{p['head']['ref']}" == head) and (state == "all" or p["state"] == state)
                ]
                return 200, found
            pr = self.pulls.get(int(number or 0))
            if pr is None or method != "GET":
                return 404, {"message": "Not Found"}
            if reviews:
                return 200, self.reviews.get(pr["number"], [])
            return 200, pr

    def _create(self, owner: str, repo: str, body: dict[str, Any]) -> tuple[int, Any]:
        missing = [k for k in ("title", "head", "base") if not body.get(k)]
        if missing:
            errors = [{"resource": "PullRequest", "field": f, "code": "missing_field"} for f in missing]
            return 422, {"message": "Validation Failed", "errors": errors}
        for pr in self.pulls.values():
            if pr["head"]["ref"] == body["head"] and pr["state"] == "open":
                return 422, {
                    "message": "Validation Failed",
                    "errors": [{"resource": "PullRequest", "code": "custom",
                                "message": f"A pull request already exists for {owner}:{body['head']}."}],
                }  # fmt: skip
        number = next(self._numbers)
        pr = {
            "number": number,
            "html_url": f"https://github.example/{owner}/{repo}/pull/{number}",
            "url": f"{self.base_url}/repos/{owner}/{repo}/pulls/{number}",
            "state": "open",
            "title": body["title"],
            "body": body.get("body") or "",
            "head": {"ref": body["head"], "label": f"{owner}:{body['head']}"},
            "base": {"ref": body["base"], "label": f"{owner}:{body['base']}"},
            "merged": False,
            "merged_at": None,
            "merge_commit_sha": None,
            "draft": False,
        }
        self.pulls[number] = pr
        return 201, pr

    def _write_back(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any] | None:
        """Compare, comments, labels, statuses; None when ``path`` is none of these."""
        base = r"/repos/([^/]+)/([^/]+)"
        with self._lock:
            if m := re.fullmatch(base + r"/compare/([0-9a-f]+)\.\.\.([0-9a-f]+)", path):
                files = self.compares.get(f"{m.group(3)}...{m.group(4)}")
                if files is None or method != "GET":
                    return 404, {"message": "Not Found"}
                return 200, {"status": "ahead", "files": files, "commits": []}
            if (m := re.fullmatch(base + r"/(issues|pulls)/(\d+)/comments", path)) and method == "POST":
                if not body.get("body"):
                    return 422, {"message": "Validation Failed"}
                number = int(m.group(4))
                kind = "review" if m.group(3) == "pulls" else "issue"
                comment = {"id": 5000 + len(self.comments), "kind": kind, "number": number, **body,
                           "html_url": f"https://github.example/{m.group(1)}/{m.group(2)}/pull/{number}#c"}  # fmt: skip
                self.comments.append(comment)
                return 201, comment
            if (m := re.fullmatch(base + r"/issues/(\d+)/labels(?:/([^/]+))?", path)) is not None:
                have = self.labels.setdefault(int(m.group(3)), [])
                if method == "POST":
                    have += [x for x in body.get("labels") or [] if x not in have]
                    return 200, [{"name": x} for x in have]
                if method == "DELETE" and m.group(4):
                    name = unquote(m.group(4))
                    if name not in have:
                        return 404, {"message": "Label does not exist"}
                    have.remove(name)
                    return 200, [{"name": x} for x in have]
            if (m := re.fullmatch(base + r"/statuses/([0-9a-f]{7,40})", path)) and method == "POST":
                if body.get("state") not in ("error", "failure", "pending", "success"):
                    return 422, {"message": "Validation Failed"}
                status = {"sha": m.group(3), **body}
                self.statuses.append(status)
                return 201, status
        return None
