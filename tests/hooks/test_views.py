"""Settings → Hooks: create shows the URL and the secret once; rotate; redeliver; another org's rows stay hidden."""

from __future__ import annotations

from typing import Any

from django.test import Client

from hooks.models import Delivery, Hook, Rule
from hooks.routines import routine_create
from hooks.secrets import unseal
from hooks.services import hook_create, log
from tests.factories import make_agent, make_org
from tests.hooks.conftest import BOARD


def test_it_creates_a_hook_in_settings_and_shows_its_url_and_secret_once(client: Client, org: Any) -> None:
    resp = client.post("/settings/hooks/new/", {"name": "repo", "source": "github"}, follow=True)
    hook = Hook.objects.get(org=org)
    secret = unseal(hook.secret_sealed)
    page = resp.content.decode()
    assert f"/hooks/acme/github/{hook.public_id}" in page
    assert secret in page
    assert secret not in client.get("/settings/hooks/").content.decode()


def test_it_hides_another_orgs_hooks_and_refuses_to_rotate_them(client: Client, org: Any) -> None:
    other = make_org(name="Other", slug="other", issue_prefix="OTH")
    theirs, _ = hook_create(actor=BOARD, org=other, source="gitlab", name="their-hook")
    page = client.get("/settings/hooks/").content.decode()
    assert "their-hook" not in page
    assert client.post(f"/settings/hooks/{theirs.pk}/rotate/").status_code == 404


def test_it_shows_the_pipeline_log_filtered_and_paged_and_only_this_orgs(client: Client, org: Any) -> None:
    other = make_org(name="Other", slug="other", issue_prefix="OTH")
    log(org=other, kind="received", message="their delivery")
    for n in range(55):
        log(org=org, kind="received" if n % 2 else "refused", message=f"step {n}")

    page = client.get("/logs/").content.decode()
    refused = client.get("/logs/?kind=refused").content.decode()
    partial = client.get("/logs/?kind=refused", headers={"HX-Request": "true"}).content.decode()

    assert "step 54" in page and "step 4<" not in page and "their delivery" not in page
    assert "Older" in page
    assert "step 54" in refused and "step 53" not in refused
    assert "<h1>" not in partial and "step 54" in partial


def test_it_shows_routines_with_next_and_last_fire_and_runs_one_now(client: Client, org: Any) -> None:
    routine = routine_create(actor=BOARD, agent=make_agent(org, slug="ops"), name="nightly", cron="0 3 * * *",
                             title_template="Nightly {{ date }}")  # fmt: skip
    page = client.get("/settings/hooks/").content.decode()
    assert "nightly" in page and "never" in page and "Run now" in page

    client.post(f"/settings/hooks/routines/{routine.pk}/run/")

    routine.refresh_from_db()
    assert routine.last_issue is not None
    assert routine.last_issue.key in client.get("/settings/hooks/").content.decode()


def test_it_redelivers_from_the_settings_page(client: Client, org: Any) -> None:
    hook, _ = hook_create(actor=BOARD, org=org, source="generic", name="ci")
    delivery = Delivery.objects.create(org=org, hook=hook, delivery_id="d-1", payload={"event": "x"}, status="failed")

    client.post(f"/settings/hooks/deliveries/{delivery.pk}/redeliver/")

    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status) == (2, "ignored")


def test_it_adds_a_rule_from_settings_with_its_filters(client: Client, org: Any) -> None:
    make_agent(org, slug="triager")
    client.post("/settings/hooks/rules/new/", {
        "name": "triage", "source": "github", "events": "issues.opened, issue_comment.created",
        "action": "create_issue",
        "assignee": "triager", "labels_contain": "agent", "author_not_bot": "1", "title_template": "{{ issue.title }}",
    })  # fmt: skip

    rule = Rule.objects.get(org=org)
    assert rule.events == ["issues.opened", "issue_comment.created"]
    assert rule.filters == {"labels_contain": ["agent"], "author_not_bot": True}
    assert rule.assignee is not None and rule.assignee.slug == "triager"
    assert "triage" in client.get("/settings/hooks/").content.decode()


def test_it_turns_a_hook_off_so_its_url_stores_nothing(client: Client, org: Any) -> None:
    hook, secret = hook_create(actor=BOARD, org=org, source="gitlab", name="gl")
    client.post(f"/settings/hooks/{hook.pk}/toggle/")

    resp = client.post(f"/hooks/acme/gitlab/{hook.public_id}", data=b"{}", content_type="application/json",
                       HTTP_X_GITLAB_TOKEN=secret)  # fmt: skip

    assert resp.status_code == 404 and not Delivery.objects.exists()
    client.post(f"/settings/hooks/{hook.pk}/toggle/")
    assert client.post(f"/hooks/acme/gitlab/{hook.public_id}", data=b"{}", content_type="application/json",
                       HTTP_X_GITLAB_TOKEN=secret).status_code == 202  # fmt: skip
