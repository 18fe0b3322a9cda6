"""The OpenAPI schema at /api/schema/ and the docs at /api/docs/ (no CDN)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

MY_PATHS = (
    "/api/v1/work-blocks",
    "/api/v1/work-blocks/{block_id}",
    "/api/v1/work-blocks/{block_id}/issues",
    "/api/v1/work-blocks/{block_id}/issues/{key}",
    "/api/v1/apex-blocks",
    "/api/v1/apex-blocks/{apex_id}",
    "/api/v1/alignment",
    "/api/v1/approvals",
    "/api/v1/approvals/{approval_id}",
    "/api/v1/approvals/{approval_id}/resolve",
    "/api/v1/archetypes",
    "/api/v1/archetypes/{slug}",
    "/api/v1/archetype-patches",
    "/api/v1/wiki",
    "/api/v1/wiki/search",
    "/api/v1/wiki/{slug}",
    "/api/v1/wiki/{slug}/revisions",
)


@pytest.fixture(scope="module")
def served_schema(django_db_blocker: Any) -> dict[str, Any]:
    """/api/schema/ fetched once per module (generating it takes a while)."""
    with django_db_blocker.unblock():
        resp = Client().get("/api/schema/?format=json")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/")
    return resp.json()


def test_it_serves_an_openapi_3_schema_with_the_bearer_scheme(served_schema: dict[str, Any]) -> None:
    schema = served_schema
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["bearerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A Mesa API key: `mesa_run_…` (one run), `mesa_agent_…` or `mesa_board_…`.",
    }
    for path in MY_PATHS:
        for method, operation in schema["paths"][path].items():
            assert operation["security"] == [{"bearerKey": []}], (method, path)
    missing = [p for p in MY_PATHS if p not in schema["paths"]]
    assert missing == []


def test_it_documents_the_error_shape_on_every_operation(served_schema: dict[str, Any]) -> None:
    schema = served_schema
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "401" in responses, (method, path)
            ref = responses["401"]["content"]["application/json"]["schema"]["$ref"]
            error = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
            assert set(error["required"]) == {"error", "code"}, (method, path)
            assert operation.get("operationId"), (method, path)


def test_it_documents_the_search_result_shape(served_schema: dict[str, Any]) -> None:
    schema = served_schema
    op = schema["paths"]["/api/v1/wiki/search"]["get"]
    q = next(p for p in op["parameters"] if p["name"] == "q")
    assert q["required"] is True
    page_ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][page_ref.rsplit("/", 1)[1]]
    hit_ref = page["properties"]["results"]["items"]["$ref"]
    hit = schema["components"]["schemas"][hit_ref.rsplit("/", 1)[1]]
    assert set(hit["properties"]) == {"slug", "title", "snippet", "score", "updated_at"}


def test_it_generates_the_schema_without_warnings(db: None) -> None:
    # Raises (SchemaGenerationError) on any warning or an invalid schema.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_it_serves_readable_docs_without_a_cdn(call: Callable[..., Any], db: None) -> None:
    for path in ("/api/docs/",):
        resp = call("GET", path, None)
        assert resp.status_code == 200, path
        html = resp.content.decode()
        assert "/api/schema/" in html
        assert not re.search(r"cdn|unpkg|jsdelivr|googleapis", html, re.IGNORECASE), path
        assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
        assert assets, path
        for asset in assets:
            assert finders.find(asset.split("?")[0]), asset
