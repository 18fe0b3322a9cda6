"""Fixtures for the agent API tests.

``api_org`` is an org with a CEO, an engineer reporting to it, a QA agent that
reviews the engineer's work, and a designer (peer of the engineer, no rights on
its issues). ``outsider`` is an agent of another org. Keys are minted through
``agents.keys.key_create``; ``call(method, path, key, json=None)`` sends a request
with ``Authorization: Bearer <key>`` and returns the response (``.json()`` works).
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from agents.keys import key_create
from agents.models import Agent, KeyKind
from orgs.actors import Actor
from orgs.models import Org

SYSTEM = Actor.system("tests")

Call = Callable[..., Any]


@pytest.fixture
def api_org(db: None) -> Org:
    from tests.factories import make_org

    return make_org(name="Api Org", slug="api-org", issue_prefix="API")


@pytest.fixture
def ceo(api_org: Org) -> Agent:
    from tests.factories import make_ceo

    return make_ceo(api_org)


@pytest.fixture
def engineer(api_org: Org, ceo: Agent, qa: Agent) -> Agent:
    from tests.factories import make_agent

    return make_agent(api_org, slug="engineer", archetype="backend", reports_to=ceo, review_agent=qa)


@pytest.fixture
def qa(api_org: Org, ceo: Agent) -> Agent:
    from tests.factories import make_agent

    return make_agent(api_org, slug="qa", archetype="qa", reports_to=ceo)


@pytest.fixture
def designer(api_org: Org, ceo: Agent) -> Agent:
    from tests.factories import make_agent

    return make_agent(api_org, slug="designer", archetype="frontend", reports_to=ceo)


@pytest.fixture
def other_org(db: None) -> Org:
    from tests.factories import make_org

    return make_org(name="Other Org", slug="other-org", issue_prefix="OTH")


@pytest.fixture
def outsider(other_org: Org) -> Agent:
    """An agent (the CEO, even) of another org."""
    from tests.factories import make_ceo

    return make_ceo(other_org, slug="outsider")


@pytest.fixture
def board_key(api_org: Org) -> str:
    _, raw = key_create(actor=SYSTEM, org=api_org, kind=KeyKind.BOARD, name="tests")
    return raw


@pytest.fixture
def agent_key() -> Callable[[Agent], str]:
    """``agent_key(agent)`` → a fresh agent key for ``agent`` (in the agent's org)."""

    def make(agent: Agent) -> str:
        _, raw = key_create(actor=SYSTEM, org=agent.org, kind=KeyKind.AGENT, agent=agent, name="tests")
        return raw

    return make


def _call(client: Client, method: str, path: str, key: str | None, json: Any = None, **extra: Any) -> Any:
    if not path.startswith("/"):
        path = "/api/v1/" + path
    headers: dict[str, str] = {}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    headers.update(extra.pop("headers", {}))
    kwargs: dict[str, Any] = {"headers": headers, **extra}
    if json is not None:
        kwargs["data"] = jsonlib.dumps(json)
        kwargs["content_type"] = "application/json"
    elif method.upper() in {"POST", "PUT", "PATCH"} and "data" not in kwargs:
        # Like `curl -X POST` without a body (the test client would send an empty multipart form).
        kwargs["data"] = b""
        kwargs["content_type"] = "application/json"
    return getattr(client, method.lower())(path, **kwargs)


@pytest.fixture
def call(client: Client) -> Call:
    """``call(method, path, key, json=None, **client_kwargs)`` → the response.

    ``path`` may be relative to /api/v1/ (``"issues"``) or absolute (``"/api/schema/"``).
    Extra kwargs go to the Django test client (e.g. ``data=b"...", content_type="text/plain"``).
    """

    def do(method: str, path: str, key: str | None, json: Any = None, **extra: Any) -> Any:
        return _call(client, method, path, key, json, **extra)

    return do
