"""Markdown as people read it: headings above body text, task lists, tables apart (issue 12, bug 11)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python

pytestmark = pytest.mark.browser

PAGE = """
from orgs.models import Org
from orgs.actors import Actor
from wiki.services import wiki_page_create
org = Org.objects.get(slug="mesa")
print(wiki_page_create(actor=Actor.system("seed"), org=org, title="Markdown check", content={content!r}).slug)
"""

CONTENT = """Body text here.

## A section

- [ ] open task
- [x] done task

| a | b |
|---|---|
| 1 | 2 |

> a quote after the table
"""


def test_it_renders_wiki_headings_task_lists_and_tables_legibly(page: Page, mesa: Server) -> None:
    slug = run_python(mesa.db, PAGE.format(content=CONTENT)).strip()
    page.goto(f"{mesa.url}/wiki/{slug}/")
    md = page.locator(".md").first
    style = "(e, p) => getComputedStyle(e)[p]"
    body_size = float(md.locator("p").first.evaluate(style, "fontSize").rstrip("px"))
    heading = md.locator("h2")
    assert float(heading.evaluate(style, "fontSize").rstrip("px")) > body_size
    assert heading.evaluate(style, "color") == md.locator("p").first.evaluate(style, "color")
    expect(md.locator("li.task input[type=checkbox]")).to_have_count(2)
    expect(md.locator("li.task input[type=checkbox]:checked")).to_have_count(1)
    expect(md).not_to_contain_text("[ ]")
    table = md.locator("table").bounding_box()
    quote = md.locator("blockquote").bounding_box()
    assert table and quote and quote["y"] - (table["y"] + table["height"]) >= 8
