"""Talking to a live Mesa (pytest-django's ``live_server``) the way an attacker or a browser would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client


@dataclass
class Answer:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(url: str, *, key: str = "", cookie: str = "", method: str = "GET", data: Any = None) -> Answer:
    headers = {"Accept": "application/json, text/html"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if cookie:
        headers["Cookie"] = f"sessionid={cookie}"
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # the test's own live server
            return Answer(response.status, response.read().decode())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read().decode())


def operator_cookie() -> str:
    """A session cookie of a superuser (the instance operator), valid in every auth mode."""
    user = get_user_model().objects.create_superuser("operator", "op@example.com", "pw-operator-123")
    client = Client()
    client.force_login(user)
    return str(client.cookies["sessionid"].value)
