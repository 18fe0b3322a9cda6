"""Settings › Runners › Workers: the operator adds, checks, stops and removes workers; others only look (their org).

No engine is needed here: a worker that was never started has no container (the container side is
tests/runners/test_workers.py and test_worker_health.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from orgs.models import OrgRole
from orgs.services import membership_set
from runners.models import Worker, WorkerStatus
from runners.workers import WorkerFile, worker_add
from tests.factories import SYSTEM, make_agent, make_org, make_user

PAGE = "/settings/runners/"
ADD = "/settings/runners/workers/add"
HTMX = {"HX-Request": "true", "HX-Target": "workers"}
SPEC = 'name = "acme-boxed"\norg = "acme"\nagent = "boxed"\n[limits]\nmemory = "512m"\n'


@pytest.fixture
def login_mode(settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False


def _login(client: Client, org: Any, *, role: str = OrgRole.OWNER, **kw: Any) -> Any:
    user = make_user(**kw)
    membership_set(actor=SYSTEM, org=org, user=user, role=role)
    client.force_login(user)
    return user


def _boxed(org: Any, slug: str = "boxed") -> Any:
    return make_agent(org, slug=slug, runner="command", sandbox="container", model="true")


def _worker(org: Any, name: str = "acme-boxed", agent: str = "boxed") -> Worker:
    _boxed(org, agent)
    return worker_add(actor=SYSTEM, spec=WorkerFile(name=name, org=org.slug, agent=agent))


def test_it_lets_the_operator_add_check_stop_and_remove_a_worker(client: Client, org: Any, login_mode: None) -> None:
    _boxed(org)
    _login(client, org, is_superuser=True)
    page = client.get(PAGE).content.decode()
    assert 'id="workers"' in page and "Add worker" in page and "No workers." in page

    response = client.post(ADD, {"spec": SPEC, "format": "toml"}, headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="workers"') and "Added worker acme-boxed" in body
    worker = Worker.objects.get(name="acme-boxed")
    assert worker.memory == "512m" and worker.org == org and worker.status == WorkerStatus.STOPPED
    assert 'data-worker="acme-boxed"' in client.get(PAGE, headers=HTMX).content.decode()
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    Worker.objects.filter(pk=worker.pk).update(
        status=WorkerStatus.FAILED, last_health="container exited", last_health_at=when, last_error="restart failed: x"
    )
    row = client.get(PAGE, headers=HTMX).content.decode()
    assert "container exited" in row and "2026-03-04 05:06:07" in row and "restart failed: x" in row
    assert '<span class="bad">failed</span>' in row

    body = client.post(f"/settings/runners/workers/{worker.name}/check", headers=HTMX).content.decode()
    assert "Worker acme-boxed: failed." in body  # not running: nothing to ask, the status is the answer
    body = client.post(f"/settings/runners/workers/{worker.name}/stop", headers=HTMX).content.decode()
    assert "Stopped worker acme-boxed." in body and Worker.objects.get().last_health == "stopped"
    response = client.post(f"/settings/runners/workers/{worker.name}/remove")  # a plain form post: back to the page
    assert response.status_code == 302 and response.headers["location"] == "/settings/runners/#workers"
    assert not Worker.objects.exists()


def test_it_shows_a_bad_spec_inline_and_keeps_the_text(client: Client, org: Any, login_mode: None) -> None:
    _boxed(org)
    _login(client, org, is_superuser=True)
    bad = "mounts = ['/etc']\n" + SPEC

    response = client.post(ADD, {"spec": bad, "format": "toml"}, headers=HTMX)

    assert response.status_code == 400
    body = response.content.decode()
    assert "pasted.toml: `mounts` cannot be set" in body and 'class="inline-error"' in body
    assert "mounts = [&#x27;/etc&#x27;]" in body and 'aria-invalid="true"' in body  # the text is kept
    assert not Worker.objects.exists()
    response = client.post(ADD, {"spec": '{"name": "w", "org": "acme", "agent": "nope"}', "format": "json"})
    assert response.status_code == 400  # a plain post: the section as a page, with the error and the text
    body = response.content.decode()
    assert "no agent &#x27;nope&#x27; in org &#x27;acme&#x27;" in body and "&quot;agent&quot;: &quot;nope&quot;" in body


def test_it_shows_an_org_owner_its_workers_read_only_and_refuses_to_drive_them(
    client: Client, org: Any, login_mode: None
) -> None:
    worker = _worker(org)
    _login(client, org)  # the org's owner, not the instance operator
    page = client.get(PAGE).content.decode()
    assert 'data-worker="acme-boxed"' in page and "Only the instance operator can add" in page
    assert "Add worker" not in page and "/workers/acme-boxed/stop" not in page

    assert client.post(f"/settings/runners/workers/{worker.name}/stop").status_code == 403
    response = client.post(f"/settings/runners/workers/{worker.name}/remove", headers=HTMX)
    assert response.status_code == 403 and "the instance operator" in response.content.decode()
    assert client.post(ADD, {"spec": SPEC, "format": "toml"}).status_code == 403
    assert Worker.objects.get().status == WorkerStatus.STOPPED and Worker.objects.count() == 1


def test_it_hides_another_orgs_workers_from_its_members(client: Client, org: Any, login_mode: None) -> None:
    _worker(org)
    other = make_org(name="Other", slug="other", issue_prefix="OTH")
    _worker(other, name="other-boxed", agent="boxed")
    _login(client, other)
    page = client.get(PAGE).content.decode()
    assert 'data-worker="other-boxed"' in page and "acme-boxed" not in page

    assert client.post("/settings/runners/workers/acme-boxed/remove").status_code == 404
    assert client.post("/settings/runners/workers/acme-boxed/check", headers=HTMX).status_code == 404
    assert Worker.objects.count() == 2


def test_it_lets_the_person_at_the_machine_drive_workers_in_local_mode(client: Client, org: Any) -> None:
    worker = _worker(org)
    page = client.get(PAGE).content.decode()
    assert "Add worker" in page and f"/workers/{worker.name}/stop" in page

    body = client.post(f"/settings/runners/workers/{worker.name}/check", headers=HTMX).content.decode()

    assert "Worker acme-boxed: stopped." in body
