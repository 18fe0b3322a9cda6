"""Wiki pages: slugs from titles, every edit kept as a revision, stale edits refused."""

from __future__ import annotations

from typing import Any

import pytest

from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput, NotFound
from orgs.models import Activity, Event
from tests.factories import make_agent, make_ceo, make_org, make_wiki_page
from wiki.models import WikiPage, WikiRevision
from wiki.selectors import wiki_page_get_for
from wiki.services import wiki_page_create, wiki_page_delete, wiki_page_restore, wiki_page_update, wiki_slugify

BOARD = Actor.human(label="alice")


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Release Checklist", "release-checklist"),
        ("  How we ship -- v2!  ", "how-we-ship-v2"),
        ("API_keys & secrets", "api-keys-secrets"),
        ("Café menu", "cafe-menu"),
        ("---", ""),
    ],
)
def test_it_normalises_slugs(title: str, slug: str) -> None:
    assert wiki_slugify(title) == slug


def test_it_creates_a_page_with_its_first_revision(org: Any) -> None:
    agent = make_agent(org, slug="writer")
    page = wiki_page_create(actor=Actor.for_agent(agent), org=org, title="  Release   Checklist ", content="1. test")
    assert (page.slug, page.title, page.revision) == ("release-checklist", "Release Checklist", 1)
    assert page.created_by_agent == agent and page.updated_by_agent == agent
    rev = page.revisions.get()
    assert (rev.number, rev.title, rev.content, rev.author_agent) == (1, "Release Checklist", "1. test", agent)
    assert Event.objects.filter(type="wiki_updated", data__slug="release-checklist", data__verb="created").exists()
    assert Activity.objects.filter(object_type="wikipage", object_id="release-checklist", verb="created").exists()


def test_it_refuses_a_duplicate_slug_in_the_same_org(org: Any) -> None:
    make_wiki_page(org, title="Release checklist")
    with pytest.raises(Conflict) as exc:
        make_wiki_page(org, title="release: CHECKLIST!")
    assert exc.value.code == "duplicate" and exc.value.extra["slug"] == "release-checklist"
    assert WikiPage.objects.filter(org=org).count() == 1
    other = make_wiki_page(make_org(slug="other"), title="Release checklist")  # other orgs are separate
    assert other.slug == "release-checklist"


def test_it_refuses_a_title_without_letters_or_digits(org: Any) -> None:
    with pytest.raises(InvalidInput):
        make_wiki_page(org, title="!!!")
    with pytest.raises(InvalidInput):
        make_wiki_page(org, title="   ")


def test_it_keeps_every_edit_as_a_revision(org: Any) -> None:
    page = make_wiki_page(org, title="Runbook", content="v1")
    user = Actor.human(label="bob")
    wiki_page_update(actor=BOARD, page=page, content="v2")
    wiki_page_update(actor=user, page=page, title="Runbook (prod)", content="v3", base_revision=2)
    wiki_page_update(actor=BOARD, page=page, content="v3")  # no change: no revision
    page.refresh_from_db()
    assert (page.revision, page.title, page.content, page.slug) == (3, "Runbook (prod)", "v3", "runbook")
    assert page.updated_by_label == "bob"
    revisions = list(WikiRevision.objects.filter(page=page).order_by("number").values_list("number", "content"))
    assert revisions == [(1, "v1"), (2, "v2"), (3, "v3")]
    assert WikiRevision.objects.get(page=page, number=3).author_label == "bob"


def test_it_refuses_an_edit_based_on_a_stale_revision(org: Any) -> None:
    page = make_wiki_page(org, title="Runbook", content="v1")
    other_copy = WikiPage.objects.get(pk=page.pk)
    wiki_page_update(actor=BOARD, page=page, content="mine", base_revision=1)
    with pytest.raises(Conflict) as exc:
        wiki_page_update(actor=BOARD, page=other_copy, content="theirs", base_revision=1)
    assert exc.value.code == "stale"
    with pytest.raises(Conflict):  # a stale in-memory copy without base_revision is refused too
        wiki_page_update(actor=BOARD, page=other_copy, content="theirs")
    page.refresh_from_db()
    assert page.content == "mine" and page.revisions.count() == 2


def test_it_deletes_a_page_softly_and_keeps_its_revisions(org: Any) -> None:
    page = make_wiki_page(org, title="Old")
    wiki_page_update(actor=BOARD, page=page, content="x")
    wiki_page_delete(actor=BOARD, page=page)
    assert WikiPage.objects.get().deleted_at is not None and WikiRevision.objects.count() == 2
    assert Event.objects.filter(type="wiki_updated", data__verb="deleted", data__slug="old").exists()
    with pytest.raises(NotFound):
        wiki_page_get_for(actor=BOARD, org=org, slug="old")
    with pytest.raises(Conflict):
        wiki_page_delete(actor=BOARD, page=page)
    restored = wiki_page_restore(actor=BOARD, page=wiki_page_get_for(actor=BOARD, org=org, slug="old", deleted=True))
    assert restored.deleted_at is None and restored.content == "x" and restored.revision == 2


def test_it_lets_only_the_board_the_ceo_and_the_author_delete(org: Any) -> None:
    author, other = make_agent(org, slug="writer"), make_agent(org, slug="bystander")
    ceo = make_ceo(org)
    page = wiki_page_create(actor=Actor.for_agent(author), org=org, title="Notes")
    with pytest.raises(Forbidden):
        wiki_page_delete(actor=Actor.for_agent(other), page=page)
    assert WikiPage.objects.get(pk=page.pk).deleted_at is None
    wiki_page_delete(actor=Actor.for_agent(author), page=page)
    with pytest.raises(Forbidden):
        wiki_page_restore(actor=Actor.for_agent(other), page=page)
    wiki_page_restore(actor=Actor.for_agent(ceo), page=page)
    wiki_page_delete(actor=Actor.for_agent(ceo), page=page)
    assert WikiPage.objects.get(pk=page.pk).deleted_at is not None


def test_it_refuses_wiki_writes_from_an_agent_of_another_org(org: Any) -> None:
    outsider = Actor.for_agent(make_agent(make_org(slug="other"), slug="spy"))
    page = make_wiki_page(org, title="Ours", content="original")
    with pytest.raises(Forbidden):
        wiki_page_create(actor=outsider, org=org, title="Planted")
    with pytest.raises(Forbidden):
        wiki_page_update(actor=outsider, page=page, content="defaced")
    with pytest.raises(Forbidden):
        wiki_page_delete(actor=outsider, page=page)
    assert list(WikiPage.objects.filter(org=org).values_list("slug", "content", "revision")) == [
        ("ours", "original", 1)
    ]


@pytest.mark.django_db(transaction=True)
def test_it_keeps_exactly_one_of_concurrent_edits_of_the_same_revision() -> None:
    from tests.orgs.threads import run_concurrently

    org = make_org()
    page = make_wiki_page(org, title="Hot page", content="v1")
    results, errors = run_concurrently(
        lambda n: (
            wiki_page_update(
                actor=BOARD, page=WikiPage.objects.get(pk=page.pk), content=f"edit {n}", base_revision=1
            ).content
        ),
        threads=6,
    )
    assert len(results) == 1 and len(errors) == 5
    assert all(isinstance(e, Conflict) and e.code == "stale" for e in errors)
    page.refresh_from_db()
    assert (page.revision, page.content) == (2, results[0])
    assert list(page.revisions.order_by("number").values_list("content", flat=True)) == ["v1", results[0]]


def test_it_refuses_an_over_long_title_on_edit_as_on_create(org: Any) -> None:
    page = make_wiki_page(org, title="Short")
    with pytest.raises(InvalidInput) as exc:
        wiki_page_update(actor=Actor.system("tests"), page=page, title="x" * 201)
    assert exc.value.extra["field"] == "title"
    page.refresh_from_db()
    assert page.title == "Short" and page.revision == 1
