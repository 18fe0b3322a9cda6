"""Archetypes (read) and archetype patches (agents propose, humans decide) over the API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings

from agents.models import Agent
from approvals.models import Approval, ApprovalKind
from archetypes.models import ArchetypePatch
from orgs.models import Org

NEW_QA = "---\ntitle: QA\n---\n# QA\n\nYou are a careful tester who also runs the linters.\n"


def test_it_lists_archetypes_without_text(
    call: Callable[..., Any], engineer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    body = call("GET", "archetypes?limit=500", agent_key(engineer)).json()
    slugs = [a["slug"] for a in body["results"]]
    assert "qa" in slugs and "ceo" in slugs
    assert slugs == sorted(slugs)
    assert body["count"] == len(slugs) >= 23
    assert all("text" not in a and a["source"] == "builtin" for a in body["results"])


def test_it_reads_an_archetype_text(call: Callable[..., Any], board_key: str) -> None:
    body = call("GET", "archetypes/qa", board_key).json()
    assert body["slug"] == "qa"
    assert body["text"].strip()
    for slug in ("nope", "..", "QA!"):
        resp = call("GET", f"archetypes/{slug}", board_key)
        assert resp.status_code == 404, slug
        assert resp.json()["code"] == "not_found"


def test_it_lets_an_agent_propose_a_patch(
    call: Callable[..., Any], api_org: Org, engineer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    resp = call(
        "POST",
        "archetype-patches",
        agent_key(engineer),
        {"archetype": "qa", "proposed_text": NEW_QA, "reason": "QA forgot the linters twice."},
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["archetype"], body["status"], body["proposed_by"]) == ("qa", "pending", "engineer")
    approval = Approval.objects.get(pk=body["approval"])
    assert approval.kind == ApprovalKind.ARCHETYPE_PATCH
    assert approval.archetype_patch_id == body["id"]


def test_it_refuses_bad_patches(call: Callable[..., Any], board_key: str) -> None:
    for body, field in (
        ({"proposed_text": NEW_QA}, "archetype"),
        ({"archetype": "Not A Slug", "proposed_text": NEW_QA}, "archetype"),
        ({"archetype": "qa"}, "proposed_text"),
        ({"archetype": "qa", "proposed_text": "   "}, "proposed_text"),
    ):
        resp = call("POST", "archetype-patches", board_key, body)
        assert resp.status_code == 400, body
        assert resp.json()["field"] == field, resp.json()
    assert ArchetypePatch.objects.count() == 0


def test_it_applies_a_patch_when_the_board_approves(
    call: Callable[..., Any],
    api_org: Org,
    ceo: Agent,
    engineer: Agent,
    board_key: str,
    agent_key: Callable[[Agent], str],
) -> None:
    patch = call("POST", "archetype-patches", agent_key(engineer), {"archetype": "qa", "proposed_text": NEW_QA}).json()
    # Agents, even the CEO, do not decide archetype patches.
    resp = call("POST", f"approvals/{patch['approval']}/resolve", agent_key(ceo), {"decision": "approved"})
    assert resp.status_code == 403
    resp = call("POST", f"approvals/{patch['approval']}/resolve", board_key, {"decision": "approved"})
    assert resp.status_code == 200, resp.content
    assert (Path(settings.MESA_ARCHETYPES_DIR) / api_org.slug / "qa.md").read_text() == NEW_QA
    body = call("GET", "archetypes/qa", board_key).json()
    assert (body["source"], body["text"]) == ("override", NEW_QA)
    listed = call("GET", "archetype-patches?status=approved", board_key).json()["results"]
    assert [p["id"] for p in listed] == [patch["id"]]
    assert call("GET", "archetype-patches?status=pending", board_key).json()["results"] == []


def test_it_lists_patches_in_a_bounded_number_of_queries(
    call: Callable[..., Any], board_key: str, django_assert_max_num_queries: Any
) -> None:
    for slug in ("qa", "backend", "ceo") * 8:
        call("POST", "archetype-patches", board_key, {"archetype": slug, "proposed_text": f"# {slug}\n"})
    with django_assert_max_num_queries(4):
        body = call("GET", "archetype-patches", board_key).json()
    assert len(body["results"]) == 24
    assert all(p["approval"] is not None for p in body["results"])
    assert len(call("GET", "archetype-patches?archetype=qa", board_key).json()["results"]) == 8
    assert call("GET", "archetype-patches?status=bogus", board_key).json()["field"] == "status"


def test_it_hides_patches_from_other_orgs(
    call: Callable[..., Any], board_key: str, outsider: Agent, agent_key: Callable[[Agent], str]
) -> None:
    call("POST", "archetype-patches", board_key, {"archetype": "qa", "proposed_text": NEW_QA})
    assert call("GET", "archetype-patches", agent_key(outsider)).json()["results"] == []
    assert call("GET", "archetype-patches", None).status_code == 401


def test_it_pages_archetypes_and_refuses_bad_paging(call: Callable[..., Any], board_key: str) -> None:
    body = call("GET", "archetypes?limit=5&offset=5", board_key).json()
    assert len(body["results"]) == 5
    assert body["next"] is not None
    resp = call("GET", "archetypes?limit=abc", board_key)
    assert resp.status_code == 400
    assert resp.json()["field"] == "limit"
    assert call("GET", "archetypes", None).status_code == 401


def test_it_rolls_back_an_approved_patch_for_the_board_only(
    call: Callable[..., Any],
    api_org: Org,
    engineer: Agent,
    outsider: Agent,
    board_key: str,
    agent_key: Callable[[Agent], str],
) -> None:
    patch = call("POST", "archetype-patches", agent_key(engineer), {"archetype": "qa", "proposed_text": NEW_QA}).json()
    assert call("POST", f"archetype-patches/{patch['id']}/rollback", board_key).status_code == 409
    call("POST", f"approvals/{patch['approval']}/resolve", board_key, {"decision": "approved"})
    assert call("GET", "archetypes/qa", board_key).json()["text"] == NEW_QA
    assert call("POST", f"archetype-patches/{patch['id']}/rollback", agent_key(engineer)).status_code == 403
    assert call("POST", f"archetype-patches/{patch['id']}/rollback", agent_key(outsider)).status_code == 404
    resp = call("POST", f"archetype-patches/{patch['id']}/rollback", board_key)
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "rolled_back"
    assert call("GET", "archetypes/qa", board_key).json()["source"] == "builtin"
