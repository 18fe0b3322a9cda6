"""Issue 16 item 11, replayed against a live server: 30 wrong passwords in 9 s, no lockout, admin too.

Now the login page and the admin throttle per client IP and per username: after the failure limit,
even the right password is refused with a 429 until the cool-off ends.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
from http.cookiejar import CookieJar
from typing import Any
from urllib.request import HTTPCookieProcessor, build_opener

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db(transaction=True)


class Browser:
    """A cookie-keeping client that signs in through a form, as a person (or a script) would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def sign_in(self, path: str, username: str, password: str) -> tuple[int, str]:
        page = self.opener.open(self.base + path, timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password, "next": "/"}
        ).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_wrong_passwords_lock_the_username_and_the_right_one_waits(live_server: Any, path: str) -> None:
    get_user_model().objects.create_superuser("alice", "a@example.com", "right-password-123")
    browser = Browser(live_server.url)
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        status, _ = browser.sign_in(path, "alice", "wrong")
        assert status == (400 if path == "/login/" else 200)  # the form again, with its error
    status, body = browser.sign_in(path, "alice", "wrong")
    assert status == 429 and "Too many failed sign-ins" in body
    status, body = browser.sign_in(path, "alice", "right-password-123")
    assert status == 429  # locked: the right password does not get through either


def test_one_address_guessing_many_usernames_is_locked_too(live_server: Any) -> None:
    browser = Browser(live_server.url)
    statuses = [browser.sign_in("/login/", f"user{i}", "guess")[0] for i in range(settings.AXES_FAILURE_LIMIT + 1)]
    assert statuses[-1] == 429 and 429 not in statuses[: settings.AXES_FAILURE_LIMIT - 1]
