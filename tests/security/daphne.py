"""A live daphne for the security replays that need a real server process and a browser-like session (login mode)."""

from __future__ import annotations

import http.cookiejar
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.browser.server import REPO, Server, free_port, mesa_env

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def start(db: Path, log: Path, **extra: str) -> Server:
    """daphne on a free port, ready once ``/login/`` answers at all (login mode or trusted local mode)."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "mesa.asgi:application"],
            cwd=REPO,
            env={**mesa_env(db), **extra},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(db=db, port=port, proc=proc, log=log, extra=extra)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daphne exited: {log.read_text()}")
        try:
            urllib.request.urlopen(server.url + "/login/", timeout=2).close()
            return server
        except urllib.error.HTTPError:
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"daphne did not answer in 30 s: {log.read_text()}")


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
