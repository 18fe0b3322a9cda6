from __future__ import annotations

import io
import zipfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from agents.models import Agent
from issues.models import Issue
from orgs.models import Org, OrgRole
from orgs.services import membership_set
from tests.factories import SYSTEM, make_agent, make_comment, make_issue, make_user

SECRET = "sk-web-secret-456"


def _seed(org: Any) -> None:
    agent = make_agent(org, slug="dev", env={"DEPLOY_TOKEN": SECRET})
    make_comment(make_issue(org, title="First", assignee=agent), body="Hello")


def test_it_downloads_the_org_as_a_zip_without_secrets(client: Any, org: Any) -> None:
    _seed(org)
    response = client.get("/settings/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="mesa-acme.zip"' in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        texts = [archive.read(n).decode() for n in names]
    assert {"org.toml", "agents.toml", "issues/ACME-1.md", "issues/ACME-1.comments.jsonl"} <= names
    assert all(SECRET not in t for t in texts) and any("DEPLOY_TOKEN" in t for t in texts)


def test_it_imports_a_zip_from_settings_dry_run_first(client: Any, org: Any) -> None:
    _seed(org)
    data = client.get("/settings/export/").content
    assert 'action="/settings/import/"' in client.get("/settings/").content.decode()

    dry = client.post("/settings/import/", {"bundle": _upload(data), "as_slug": "copy", "dry_run": "1"})
    assert dry.status_code == 200
    body = dry.content.decode()
    assert "Dry run: nothing was written" in body and "create issue ACME-1" in body
    assert not Org.objects.filter(slug="copy").exists()

    done = client.post("/settings/import/", {"bundle": _upload(data), "as_slug": "copy"})
    assert "Imported into copy" in done.content.decode() and "agent dev: env DEPLOY_TOKEN" in done.content.decode()
    copy = Org.objects.get(slug="copy")
    assert Issue.objects.get(org=copy, number=1).comments.count() == 1
    assert Agent.objects.get(org=copy, slug="dev").env == {"DEPLOY_TOKEN": ""}


def test_it_refuses_import_to_a_non_operator_and_export_to_a_non_owner(client: Any, org: Any, settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    _seed(org)
    data = _zip({"org.toml": 'format = 1\n[org]\nname = "X"\nslug = "x"\nissue_prefix = "X"\n'})
    owner = make_user()
    membership_set(actor=SYSTEM, org=org, user=owner, role=OrgRole.OWNER)
    client.force_login(owner)
    response = client.post("/settings/import/", {"bundle": _upload(data)})
    assert response.status_code == 403 and "instance operator" in response.content.decode()
    assert not Org.objects.filter(slug="x").exists()

    member = make_user()
    membership_set(actor=SYSTEM, org=org, user=member, role=OrgRole.MEMBER)
    client.force_login(member)
    assert client.get("/settings/export/").status_code == 302


def test_it_shows_an_inline_error_for_a_file_that_is_not_an_export(client: Any, org: Any) -> None:
    response = client.post("/settings/import/", {"bundle": _upload(b"not a zip")})
    assert response.status_code == 400 and "not an org export" in response.content.decode()


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _upload(data: bytes) -> Any:
    return SimpleUploadedFile("export.zip", data, content_type="application/zip")
