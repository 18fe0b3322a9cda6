"""Role archetypes: the built-in set, override precedence and approved patches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from approvals.models import Approval, ApprovalKind, ApprovalStatus
from approvals.services import approval_resolve
from archetypes.loader import (
    BUILTIN_DIR,
    archetype_exists,
    archetype_get,
    archetype_list,
    builtin_text,
    org_override_dir,
    override_dir,
    parse,
)
from archetypes.models import ArchetypePatch, PatchStatus
from archetypes.services import (
    archetype_patch_approve,
    archetype_patch_create,
    archetype_patch_reject,
    archetype_patch_rollback,
)
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from tests.factories import make_agent, make_ceo

REQUIRED = [
    "admin",
    "annoyed-customer",
    "architect",
    "auditor",
    "backend",
    "ceo",
    "design-partner",
    "designer",
    "devops",
    "finance",
    "frontend",
    "fullstack",
    "hr",
    "legal",
    "marketing",
    "operations",
    "other",
    "pr",
    "product",
    "qa",
    "sales",
    "social-media",
    "support",
]
SECTIONS = ["## Who you are", "## What you produce", "## What you must not do", "## How you work with the board"]
BOARD = Actor.human(label="alice")
NEW_QA = "---\ntitle: QA v2\nsummary: Stricter.\n---\n# QA v2\n\nRun everything twice.\n"


def _override(slug: str, text: str) -> Path:
    path = override_dir() / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("slug", REQUIRED)
def test_it_ships_each_required_archetype_complete(slug: str) -> None:
    arch = archetype_get(slug)
    assert arch is not None, f"missing archetype {slug}"
    assert arch.source == "builtin" and arch.path == BUILTIN_DIR / f"{slug}.md"
    meta, _ = parse(arch.text)
    assert meta.get("title") and arch.title == meta["title"]
    assert len(arch.summary) > 20
    positions = [arch.body.find(section) for section in SECTIONS]
    assert all(p >= 0 for p in positions), f"{slug} lacks a section: {dict(zip(SECTIONS, positions, strict=True))}"
    for start, section in zip(positions, SECTIONS, strict=True):
        rest = arch.body[start + len(section) :]
        following = rest.split("\n## ", 1)[0]
        assert len(following.strip()) > 40, f"{slug}: {section} is empty"


def test_it_lists_each_builtin_once_sorted() -> None:
    slugs = [a.slug for a in archetype_list()]
    assert slugs == sorted(slugs)
    assert set(REQUIRED) <= set(slugs)
    assert len(slugs) == len(set(slugs))


def test_it_prefers_the_override_directory() -> None:
    path = _override("qa", NEW_QA)
    arch = archetype_get("qa")
    assert arch is not None
    assert (arch.source, arch.path, arch.title, arch.summary) == ("override", path, "QA v2", "Stricter.")
    assert arch.body.startswith("# QA v2")
    listed = [a for a in archetype_list() if a.slug == "qa"]
    assert len(listed) == 1 and listed[0].source == "override"
    assert builtin_text("qa") != NEW_QA  # the built-in stays readable


def test_it_adds_new_roles_from_the_override_directory(org: Any) -> None:
    _override("data-scientist", "---\ntitle: Data Scientist\nsummary: Numbers.\n---\nBody\n")
    (override_dir() / "Bad Name.md").write_text("ignored")
    slugs = [a.slug for a in archetype_list()]
    assert "data-scientist" in slugs and "Bad Name" not in slugs
    assert archetype_exists("data-scientist")
    agent = make_agent(org, slug="ds", archetype="data-scientist")
    assert agent.archetype == "data-scientist"


def test_it_reads_a_file_without_front_matter(settings: Any) -> None:
    _override("plain-role", "# Just markdown\n")
    arch = archetype_get("plain-role")
    assert arch is not None and arch.title == "Plain Role" and arch.summary == "" and arch.body == "# Just markdown\n"


def test_it_refuses_path_tricks_in_slugs() -> None:
    for slug in ("../settings", "qa/../ceo", "", "QA"):
        assert archetype_get(slug) is None
        assert not archetype_exists(slug)


def test_it_writes_an_approved_patch_and_rolls_it_back(org: Any) -> None:
    auditor = make_agent(org, slug="auditor", archetype="auditor")
    patch = archetype_patch_create(
        actor=Actor.for_agent(auditor), org=org, archetype="qa", proposed_text=NEW_QA, reason="Reviews missed bugs"
    )
    approval = Approval.objects.get(archetype_patch=patch)
    assert (approval.kind, approval.status, approval.requested_by_agent) == ("archetype_patch", "pending", auditor)
    assert patch.status == PatchStatus.PENDING and archetype_get("qa").source == "builtin"  # type: ignore[union-attr]

    archetype_patch_approve(actor=BOARD, patch=patch, comment="ok")
    target = org_override_dir(org) / "qa.md"
    assert target.read_text() == NEW_QA
    row = ArchetypePatch.objects.get(pk=patch.pk)
    assert row.status == PatchStatus.APPROVED and row.decided_by_label == "alice"
    assert row.previous_text == builtin_text("qa") and row.previous_override is False
    assert archetype_get("qa", org).title == "QA v2"  # type: ignore[union-attr]

    archetype_patch_rollback(actor=BOARD, patch=row)
    assert not target.exists()
    assert archetype_get("qa", org).source == "builtin"  # type: ignore[union-attr]
    assert ArchetypePatch.objects.get(pk=patch.pk).status == PatchStatus.ROLLED_BACK
    with pytest.raises(Conflict) as exc:
        archetype_patch_rollback(actor=BOARD, patch=row)
    assert exc.value.code == "not_approved"


def test_it_restores_a_previous_override_on_rollback(org: Any) -> None:
    older = "---\ntitle: QA local\nsummary: Ours.\n---\nLocal rules.\n"
    target = org_override_dir(org) / "qa.md"
    target.parent.mkdir(parents=True)
    target.write_text(older)
    patch = archetype_patch_create(actor=BOARD, org=org, archetype="qa", proposed_text=NEW_QA)
    # Decide through the approval, as the dashboard does; roll back with the object we still hold.
    approval = Approval.objects.get(archetype_patch=patch)
    approval_resolve(actor=BOARD, approval=approval, decision=ApprovalStatus.APPROVED)
    assert target.read_text() == NEW_QA
    assert ArchetypePatch.objects.get(pk=patch.pk).previous_text == older
    archetype_patch_rollback(actor=BOARD, patch=patch)
    assert target.read_text() == older


def test_it_rolls_back_to_the_operators_shared_override(org: Any) -> None:
    shared = "---\ntitle: QA shared\n---\nOperator rules.\n"
    _override("qa", shared)
    patch = archetype_patch_create(actor=BOARD, org=org, archetype="qa", proposed_text=NEW_QA)
    archetype_patch_approve(actor=BOARD, patch=patch)
    assert archetype_get("qa", org).text == NEW_QA  # type: ignore[union-attr]
    assert archetype_get("qa").text == shared  # type: ignore[union-attr]
    archetype_patch_rollback(actor=BOARD, patch=patch)
    assert archetype_get("qa", org).text == shared  # type: ignore[union-attr]


def test_it_decides_a_patch_only_once(org: Any) -> None:
    patch = archetype_patch_create(actor=BOARD, org=org, archetype="ceo", proposed_text=NEW_QA)
    archetype_patch_reject(actor=BOARD, patch=patch, comment="no")
    with pytest.raises(Conflict) as exc:
        archetype_patch_approve(actor=BOARD, patch=patch)
    assert exc.value.code == "already_decided"
    with pytest.raises(Conflict):
        archetype_patch_reject(actor=BOARD, patch=patch)
    assert not (override_dir() / "ceo.md").exists()
    assert ArchetypePatch.objects.get(pk=patch.pk).status == PatchStatus.REJECTED


def test_it_lets_only_humans_decide_patches(org: Any) -> None:
    ceo = make_ceo(org)
    patch = archetype_patch_create(actor=BOARD, org=org, archetype="qa", proposed_text=NEW_QA)
    with pytest.raises(Forbidden):
        archetype_patch_approve(actor=Actor.for_agent(ceo), patch=patch)
    approval = Approval.objects.get(archetype_patch=patch)
    assert approval.kind == ApprovalKind.ARCHETYPE_PATCH
    with pytest.raises(Forbidden):
        approval_resolve(actor=Actor.for_agent(ceo), approval=approval, decision="approved")
    assert ArchetypePatch.objects.get(pk=patch.pk).status == PatchStatus.PENDING
    with pytest.raises(Forbidden):
        archetype_patch_rollback(actor=Actor.for_agent(ceo), patch=patch)


def test_it_validates_a_patch_proposal(org: Any) -> None:
    with pytest.raises(InvalidInput):
        archetype_patch_create(actor=BOARD, org=org, archetype="../etc", proposed_text="x")
    with pytest.raises(InvalidInput):
        archetype_patch_create(actor=BOARD, org=org, archetype="qa", proposed_text="   ")
    assert not ArchetypePatch.objects.exists()


def test_it_refuses_a_patch_proposed_by_an_agent_of_another_org(org: Any) -> None:
    from tests.factories import make_org

    outsider = make_agent(make_org(slug="other"), slug="auditor", archetype="auditor")
    with pytest.raises(Forbidden):
        archetype_patch_create(actor=Actor.for_agent(outsider), org=org, archetype="qa", proposed_text=NEW_QA)
    assert not ArchetypePatch.objects.exists() and not Approval.objects.exists()


def test_it_still_lists_archetypes_when_an_override_is_not_utf8() -> None:
    path = _override("broken", "")
    path.write_bytes(b"---\ntitle: Broken \xff\xfe\n---\nbody\n")
    listed = {a.slug: a for a in archetype_list()}
    assert "broken" in listed and "qa" in listed
    assert listed["broken"].title.startswith("Broken")


def test_it_settles_the_approval_when_a_patch_is_decided_directly(org: Any) -> None:
    from orgs.models import Event

    auditor = make_agent(org, slug="auditor", archetype="auditor")
    patch = archetype_patch_create(actor=Actor.for_agent(auditor), org=org, archetype="qa", proposed_text=NEW_QA)
    archetype_patch_reject(actor=BOARD, patch=patch, comment="too strict")
    approval = Approval.objects.get(archetype_patch=patch)
    assert (approval.status, approval.decided_by_label, approval.decision_comment) == (
        "rejected",
        "alice",
        "too strict",
    )
    event = Event.objects.filter(type="approval_resolved").get()
    assert event.data["id"] == approval.pk and event.data["requested_by_agent_id"] == auditor.pk
    with pytest.raises(Conflict):
        approval_resolve(actor=BOARD, approval=approval, decision="approved")
    assert not (override_dir() / "qa.md").exists()


def test_it_writes_the_patch_once_when_decided_through_the_approval(org: Any) -> None:
    from orgs.models import Event

    patch = archetype_patch_create(actor=BOARD, org=org, archetype="qa", proposed_text=NEW_QA)
    approval = Approval.objects.get(archetype_patch=patch)
    approval_resolve(actor=BOARD, approval=approval, decision="approved", comment="ship it")
    assert ArchetypePatch.objects.get(pk=patch.pk).status == PatchStatus.APPROVED
    assert Approval.objects.get(pk=approval.pk).status == "approved"
    assert Event.objects.filter(type="approval_resolved").count() == 1
    assert (org_override_dir(org) / "qa.md").read_text() == NEW_QA


def test_it_moves_a_global_override_written_by_a_patch_into_its_org(org: Any) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("archetypes.migrations.0002_per_org_overrides")
    patch = archetype_patch_create(actor=BOARD, org=org, archetype="qa", proposed_text=NEW_QA)
    ArchetypePatch.objects.filter(pk=patch.pk).update(status=PatchStatus.APPROVED)
    patched = _override("qa", NEW_QA)
    operators = _override("backend", "---\ntitle: Backend shared\n---\nOurs.\n")
    migration.move_patched_overrides(apps, None)
    assert not patched.exists() and (org_override_dir(org) / "qa.md").read_text() == NEW_QA
    assert operators.exists()
