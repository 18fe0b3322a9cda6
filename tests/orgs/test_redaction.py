"""orgs.redaction: secrets and their encoded forms, in any case, out of texts and every log record."""

from __future__ import annotations

import base64
import logging
from urllib.parse import quote

import pytest

from orgs.redaction import REDACTED, Redactor, forget, redact, remember

SECRET = "Deploy-Pwd-7f3a9c"


def test_it_redacts_case_insensitively() -> None:
    redactor = Redactor([SECRET])
    assert (
        redactor.text(f"a {SECRET} b {SECRET.lower()} c {SECRET.upper()}") == f"a {REDACTED} b {REDACTED} c {REDACTED}"
    )


@pytest.mark.parametrize("prefix", ["", "u:", "ab:", "user:"])
def test_it_redacts_base64_forms_at_every_offset(prefix: str) -> None:
    encoded = base64.b64encode(f"{prefix}{SECRET}".encode()).decode()
    text = Redactor([SECRET]).text(f"Authorization: Basic {encoded}")
    assert REDACTED in text
    assert base64.b64encode(SECRET.encode()).decode()[:8] not in text


def test_it_redacts_url_quoted_forms_and_the_path_of_a_secret_url() -> None:
    token = "123456789:AAH-token-value"
    hook = "https://discord.com/api/webhooks/111/hook-secret-path-value"
    redactor = Redactor([token, hook])
    assert "AAH-token" not in redactor.text(f"GET /bot{quote(token, safe='')}/getMe")
    echoed = redactor.text("404: no webhook at /api/webhooks/111/hook-secret-path-value")
    assert "hook-secret-path-value" not in echoed


def test_it_leaves_short_values_and_structure_alone() -> None:
    redactor = Redactor([SECRET, "1", "true"])
    assert redactor.data({"n": "1 true", "list": [SECRET], SECRET: 3}) == {
        "n": "1 true",
        "list": [REDACTED],
        REDACTED: 3,
    }


def test_it_redacts_live_secrets_from_every_log_record_until_forgotten(caplog: pytest.LogCaptureFixture) -> None:
    token = "987654321:AAHliveTokenForLogs"
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="httpx")  # Mesa quiets it; an operator debugging turns it on
    remember([token])
    remember([token])  # a second holder of the same token
    logging.getLogger("httpx").info('HTTP Request: POST https://api.telegram.org/bot%s/getUpdates "200 OK"', token)
    try:
        raise RuntimeError(f"boom with {token.lower()}")
    except RuntimeError:
        logging.getLogger("telegram.ext").exception("poll failed")
    forget([token])
    assert redact(token) == REDACTED  # the other holder still has it
    forget([token])
    assert redact(token) == token
    assert token.lower() not in caplog.text.lower()
    assert caplog.text.count(REDACTED) >= 2
