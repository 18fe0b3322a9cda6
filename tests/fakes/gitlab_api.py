"""A fake GitLab REST API (v4) server on loopback: merge requests, in the real wire format.

Routes, under ``/api/v4`` (the base URL Mesa is configured with ends there):

* ``POST /projects/{id}/merge_requests`` ``{"source_branch", "target_branch", "title", "description"}``
  → ``201`` with the merge request (``iid``, ``web_url``, ``state`` "opened"); a second open one
  for the same source branch → ``409 {"message": ["Another open merge request already exists for
  this source branch: !1"]}``;
* ``GET /projects/{id}/merge_requests?state=opened&source_branch=b`` → the matching ones;
* ``GET /projects/{id}/merge_requests/{iid}`` → one (``state`` opened / merged / closed,
  ``detailed_merge_status``, ``merge_commit_sha``).

* ``GET /projects/{id}/repository/compare?from=a&to=b`` → ``{"diffs": [{"old_path", "new_path", "diff"}]}``
  from :attr:`compares` (``"a...b"``), 404 for an unknown pair;
* ``POST /projects/{id}/(merge_requests|issues)/{iid}/notes`` ``{"body"}`` → ``201`` note;
* ``POST /projects/{id}/statuses/{sha}`` ``{"state", "name"}`` → ``201``.

``{id}`` is the URL-encoded project path (``group%2Fproject``). A request without a known
``PRIVATE-TOKEN`` gets ``401 {"message": "401 Unauthorized"}``.
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
class FakeGitLab:
    tokens: set[str] = field(default_factory=lambda: {"glpat-fake"})
    calls: list[tuple[str, str, dict[str, Any], str]] = field(default_factory=list)
    mrs: dict[int, dict[str, Any]] = field(default_factory=dict)
    compares: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._iids = itertools.count(1)
        self._clock = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FakeGitLab:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                status, answer = fake.handle(self.command, self.path, body, self.headers.get("PRIVATE-TOKEN", ""))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
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
        return f"http://{host!s}:{port}/api/v4"

    def set_state(self, iid: int, state: str, **extra: Any) -> None:
        with self._lock:
            self.mrs[iid].update(state=state, updated_at=f"2026-11-29T01:{next(self._clock):02d}:00Z", **extra)

    def handle(self, method: str, path: str, body: dict[str, Any], token: str) -> tuple[int, Any]:
        self.calls.append((method, path, body, token))
        if token not in self.tokens:
            return 401, {"message": "401 Unauthorized"}
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        other = self._more(method, url.path, query, body)
        if other is not None:
            return other
        m = re.fullmatch(r"/api/v4/projects/([^/]+)/merge_requests(?:/(\d+))?", url.path)
        if m is None:
            return 404, {"message": "404 Not Found"}
        project, iid = unquote(m.group(1)), m.group(2)
        with self._lock:
            if method == "POST" and iid is None:
                for mr in self.mrs.values():
                    if mr["source_branch"] == body.get("source_branch") and mr["state"] == "opened":
                        msg = f"Another open merge request already exists for this source branch: !{mr['iid']}"
                        return 409, {"message": [msg]}
                number = next(self._iids)
                mr = {
                    "id": 1000 + number,
                    "iid": number,
                    "project_id": 7,
                    "title": body.get("title", ""),
                    "description": body.get("description", ""),
                    "state": "opened",
                    "source_branch": body.get("source_branch"),
                    "target_branch": body.get("target_branch"),
                    "web_url": f"https://gitlab.example/{project}/-/merge_requests/{number}",
                    "detailed_merge_status": "mergeable",
                    "merge_commit_sha": None,
                    "updated_at": "2026-11-29T01:00:00Z",
                }
                self.mrs[number] = mr
                return 201, mr
            if method == "GET" and iid is None:
                found = [
                    mr
                    for mr in self.mrs.values()
                    if mr["state"] == query.get("state", mr["state"])
                    and mr["source_branch"] == query.get("source_branch", mr["source_branch"])
                ]
                return 200, found
            one = self.mrs.get(int(iid or 0))
            return (200, one) if one is not None and method == "GET" else (404, {"message": "404 Not Found"})

    def _more(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any] | None:
        """Compare, notes and statuses; None when ``path`` is none of these."""
        base = r"/api/v4/projects/([^/]+)"
        with self._lock:
            if re.fullmatch(base + r"/repository/compare", path) and method == "GET":
                diffs = self.compares.get(f"{query.get('from')}...{query.get('to')}")
                return (
                    (200, {"commits": [], "diffs": diffs}) if diffs is not None else (404, {"message": "404 Not Found"})
                )
            if (m := re.fullmatch(base + r"/(merge_requests|issues)/(\d+)/notes", path)) and method == "POST":
                if not body.get("body"):
                    return 400, {"message": {"note": ["can't be blank"]}}
                note = {
                    "id": 700 + len(self.notes),
                    "noteable_type": m.group(2),
                    "noteable_iid": int(m.group(3)),
                    **body,
                }
                self.notes.append(note)
                return 201, note
            if (m := re.fullmatch(base + r"/statuses/([0-9a-f]{7,40})", path)) and method == "POST":
                status = {"sha": m.group(2), **body}
                self.statuses.append(status)
                return 201, status
        return None
