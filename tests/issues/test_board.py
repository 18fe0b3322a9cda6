"""The board's fast path (issues.board.cards_html / rows_html) against its template reference."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse, set_script_prefix
from django.utils import timezone
from django.utils.html import escape

from issues.board import GROUPINGS, Card, FilterMenu, choice_menu, filter_menus, filtered_issues, grouped
from issues.models import Issue, Label, Status
from tests.factories import make_agent, make_issue, make_issues_bulk, make_label, make_work_block

FAST_CARDS = Template("{% load mesa_tags %}{% board_cards cards %}")
TEMPLATE_CARDS = Template('{% for issue in cards %}{% include "issues/partials/card.html" %}{% endfor %}')
FAST_ROWS = Template("{% load mesa_tags %}{% list_rows cards %}")
TEMPLATE_ROWS = Template('{% for issue in cards %}{% include "issues/partials/list_row.html" %}{% endfor %}')


def normalise(html: str) -> str:
    """Runs of whitespace as one space, none between tags: the template is laid out on several lines."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def board_cards(org: Any) -> list[Card]:
    """Cards as the board reads them: one busy card, one bare, one terminal (no move form)."""
    agent = make_agent(org, slug="builder", name="<Bo> & co")
    make_label(org, name="<b>ui</b>", color="#112233")
    make_label(org, name="api", color="#445566")
    busy = make_issue(org, title='Ship "it" <now>', assignee=agent, priority=3, type="bug", labels=["<b>ui</b>", "api"])
    make_issue(org, title="A part", parent=busy)
    make_issue(org, title="Plain")
    finished = make_issue(org, title="Finished", priority=4, type="epic")
    Issue.objects.filter(pk=busy.pk).update(status=Status.IN_PROGRESS)
    Issue.objects.filter(pk=finished.pk).update(status=Status.DONE)
    groups = grouped(org, {}, grouping="status", limit=10, agents=[agent], labels=list(Label.objects.filter(org=org)))
    return [card for group in groups for card in group.issues]


def render(template: Template, cards: list[Card]) -> str:
    request = RequestFactory().get("/issues/", {"q": "a b", "label": "x&y"})
    return template.render(Context({"cards": cards, "request": request, "csrf_token": "tok<en>"}))


def test_it_renders_cards_the_same_through_the_fast_path_and_the_template(org: Any) -> None:
    cards = board_cards(org)
    fast = render(FAST_CARDS, cards)
    assert fast.count('class="card"') == 4 and fast.count('<form class="move"') == 3
    assert "⊟ 0/1" in fast and ">Bug<" in fast and "&lt;b&gt;ui&lt;/b&gt;" in fast
    assert 'data-move-url="/issues/ACME-1/move?q=a+b&amp;label=x%26y"' in fast
    assert normalise(fast) == normalise(render(TEMPLATE_CARDS, cards))


def test_it_renders_list_rows_the_same_through_the_fast_path_and_the_template(org: Any) -> None:
    cards = board_cards(org)
    fast = render(FAST_ROWS, cards)
    assert fast.count('class="list-row"') == 4 and 'href="/issues/ACME-1/"' in fast
    assert normalise(fast) == normalise(render(TEMPLATE_ROWS, cards))


def test_it_builds_card_urls_from_the_url_patterns(org: Any) -> None:
    cards = board_cards(org)
    set_script_prefix("/mesa/")  # as under a proxy serving Mesa at /mesa/
    try:
        fast = render(FAST_CARDS, cards)
    finally:
        set_script_prefix("/")
    assert 'href="/mesa/issues/ACME-1/"' in fast and 'action="/mesa/issues/ACME-1/move?' in fast
    assert 'href="/issues/' not in fast


def test_it_quotes_an_unusual_key_in_card_urls_as_reverse_does() -> None:
    key = "Ü 1&'x"
    card = Card(1, key, "T", Status.TODO, 0, "task", timezone.now(), None, None)
    fast = render(FAST_CARDS, [card]) + render(FAST_ROWS, [card])
    assert f'href="{escape(reverse("issues:detail", args=[key]))}"' in fast
    assert f'action="{escape(reverse("issues:move", args=[key]))}?' in fast
    assert normalise(render(FAST_CARDS, [card])) == normalise(render(TEMPLATE_CARDS, [card]))


def test_it_offers_every_grouping_of_the_list_view(client: Any, org: Any) -> None:
    body = client.get("/issues/?view=list").content.decode()
    assert re.findall(r'type="radio" name="group" value="(\w+)"', body) == list(GROUPINGS)


def test_it_filters_by_several_values_of_each_key(client: Any, org: Any) -> None:
    builder, writer = make_agent(org, slug="builder"), make_agent(org, slug="writer")
    block = make_work_block(org, title="Sprint")
    make_label(org, name="ui")
    make_label(org, name="api")
    both = make_issue(org, title="Both labels", assignee=builder, priority=4, labels=["ui", "api"], work_block=block)
    writer_bug = make_issue(org, title="Writer bug", assignee=writer, priority=1, type="bug")
    nobody = make_issue(org, title="Nobody", priority=2, type="docs")
    Issue.objects.filter(pk=writer_bug.pk).update(status=Status.IN_PROGRESS)
    Issue.objects.filter(pk=nobody.pk).update(status=Status.DONE)

    def shown(query: str) -> set[str]:
        keys = re.findall(r'data-key="(ACME-\d+)"', client.get(f"/issues/?view=list&{query}").content.decode())
        assert len(keys) == len(set(keys)), f"a row twice for {query}"
        return set(keys)

    assert shown("assignee=builder&assignee=none") == {both.key, nobody.key}
    assert shown("label=ui&label=api") == {both.key}  # one row although two labels match
    assert shown("priority=4&priority=1") == {both.key, writer_bug.key}
    assert shown("type=bug&type=docs") == {writer_bug.key, nobody.key}
    assert shown(f"block={block.pk}&block=none") == {both.key, writer_bug.key, nobody.key}
    assert shown("block=none") == {writer_bug.key, nobody.key}
    assert shown("status=todo&status=in_progress") == {both.key, writer_bug.key}
    assert shown("status=open&status=done") == {both.key, writer_bug.key, nobody.key}
    assert shown("status=todo&status=in_progress&assignee=writer") == {writer_bug.key}
    # The board shows just the chosen columns.
    body = client.get("/issues/?view=board&status=todo&status=done").content.decode()
    assert re.findall(r'<section class="column" data-status="(\w+)"', body) == ["todo", "done"]


def test_it_keeps_the_toolbar_menus_and_links_in_step_with_the_filters(client: Any, org: Any) -> None:
    make_label(org, name="ui")
    body = client.get("/issues/?status=todo&status=blocked&label=ui&view=board").content.decode()
    assert re.findall(r'name="status" value="(\w+)" checked', body) == ["todo", "blocked"]
    assert ">Status: 2</summary>" in body and ">Label: ui</summary>" in body
    assert 'href="?label=ui&amp;status=todo&amp;status=blocked&amp;view=list"' in body


@pytest.mark.parametrize("values", [1, 6])
def test_it_reads_a_multi_filtered_board_in_the_same_number_of_queries(
    client: Any, org: Any, django_assert_max_num_queries: Any, values: int
) -> None:
    agents = [make_agent(org, slug=f"agent-{i}") for i in range(6)]
    for i in range(6):
        make_label(org, name=f"l{i}")
    make_issues_bulk(org, 300, assignee=agents[0])
    query = "&".join(
        f"status={s}&assignee=agent-{i}&label=l{i}&priority={i % 5}&type=task&block=none"
        for i, s in zip(range(values), Status.values, strict=False)
    )
    for view in ("board", "list&group=assignee"):
        with django_assert_max_num_queries(12):
            response = client.get(f"/issues/?view={view}&{query}")
        assert response.status_code == 200


def test_it_orders_cards_as_asked(client: Any, org: Any) -> None:
    old = make_issue(org, title="Old urgent", priority=4)
    new = make_issue(org, title="New low", priority=1)

    def keys(order: str) -> list[str]:
        body = client.get(f"/issues/?view=list&group=none&order={order}").content.decode()
        return re.findall(r'data-key="(ACME-\d+)"', body)

    assert keys("priority") == [old.key, new.key]
    assert keys("created") == [new.key, old.key]


def test_it_counts_each_cards_finished_and_live_sub_issues_and_lists_its_labels(org: Any) -> None:
    make_label(org, name="api", color="#445566")
    make_label(org, name="ui", color="#112233")
    parent = make_issue(org, title="Parent", labels=["api", "ui"])
    other = make_issue(org, title="Other parent", labels=["ui"])
    done, cancelled, open_, archived = (make_issue(org, title=f"Part {n}", parent=parent) for n in range(4))
    make_issue(org, title="Other part", parent=other)
    Issue.objects.filter(pk=done.pk).update(status=Status.DONE)
    Issue.objects.filter(pk=cancelled.pk).update(status=Status.CANCELLED)
    Issue.objects.filter(pk=archived.pk).update(status=Status.DONE, archived_at=timezone.now())
    groups = grouped(org, {}, grouping="status", limit=50, agents=[], labels=list(Label.objects.filter(org=org)))
    cards = {card.key: card for group in groups for card in group.issues}
    assert (cards[parent.key].sub_count, cards[parent.key].sub_done) == (3, 2)  # the archived part is left out
    assert (cards[other.key].sub_count, cards[other.key].sub_done) == (1, 0)
    assert (cards[open_.key].sub_count, cards[open_.key].sub_done) == (0, 0)
    assert sorted(lab.name for lab in cards[parent.key].label_list) == ["api", "ui"]
    assert [lab.name for lab in cards[other.key].label_list] == ["ui"]
    assert cards[open_.key].label_list == []


def test_it_renders_toolbar_menus_the_same_through_the_fast_path_and_the_template(org: Any) -> None:
    agent = make_agent(org, slug="q", name='<Q> & "co"')
    labels = [make_label(org, name="<b>ui</b>")]
    menus = filter_menus({"assignee": ["q"], "label": []}, agents=[agent], labels=labels, blocks=[])
    menus += [choice_menu("order", "Order", ["manual", "priority"], "priority"), FilterMenu("empty", "Empty", [])]
    fast = Template("{% load mesa_tags %}{% for menu in menus %}{% filter_menu menu %}{% endfor %}")
    slow = Template('{% for menu in menus %}{% include "issues/partials/filter_menu.html" %}{% endfor %}')
    html = fast.render(Context({"menus": menus}))
    assert "&lt;Q&gt; &amp; &quot;co&quot;" in html and 'value="q" checked' in html and "None yet" in html
    assert 'type="radio" name="order" value="priority" checked' in html and "Assignee: &lt;Q&gt;" in html
    assert normalise(html) == normalise(slow.render(Context({"menus": menus})))


def test_it_counts_the_columns_from_an_index_alone(org: Any) -> None:
    """The column counts read no table row (at 10,000 issues a table read per issue cost 7 ms of the page)."""
    make_issues_bulk(org, 30)
    counts = filtered_issues(org, {}).order_by().values("status").annotate(n=Count("id"))
    sql, params = counts.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "COVERING INDEX issue_org_status_live" in plan, plan
    assert sum(row["n"] for row in counts) == 30 and len(counts) == len(Status.values)
