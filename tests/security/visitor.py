"""A browser-like visitor of a live Mesa: a session cookie, the CSRF token, login-mode sign-in."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from tests.browser.server import Server

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class Visitor:
    """One browser tab's worth of state: a cookie jar and the CSRF token of the last page read."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        self.csrf = ""

    def request(
        self, method: str, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        req = urllib.request.Request(self.server.url + path, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as resp:
                answer = Answer(resp.status, resp.read().decode(), dict(resp.headers))
        except urllib.error.HTTPError as exc:
            answer = Answer(exc.code, exc.read().decode(), dict(exc.headers))
        found = CSRF_RE.search(answer.body)
        if found:
            self.csrf = found.group(1)
        return answer

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str], *, page: str = "") -> Answer:
        """Submit a form at ``path`` with the CSRF token of ``page`` (read first) or of the last page read."""
        if page:
            self.get(page)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf, **fields}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": self.server.url + (page or path)}
        return self.request("POST", path, body, headers)

    def login(self, username: str, password: str) -> Answer:
        return self.post("/login/", {"username": username, "password": password}, page="/login/")

    def api(self, method: str, path: str, key: str, body: dict[str, Any] | None = None) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        return self.request(method, "/api/v1" + path, data, headers)
