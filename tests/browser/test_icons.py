"""Icons are inline SVG, not emoji (issue 12, bug 15)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python

pytestmark = pytest.mark.browser

EMOJI = re.compile("[\U0001f000-\U0001ffff\u2600-\u27bf]")
PAGE = """
from orgs.models import Org
from orgs.actors import Actor
from wiki.services import wiki_page_create
org = Org.objects.get(slug="mesa")
wiki_page_create(actor=Actor.system("seed"), org=org, title="Icon check", content="x")
"""


def test_it_shows_wiki_pages_with_an_svg_icon_not_an_emoji(page: Page, mesa: Server) -> None:
    run_python(mesa.db, PAGE)
    page.goto(f"{mesa.url}/wiki/")
    row = page.locator("a.subissue", has_text="Icon check")
    expect(row.locator("svg.icon")).to_have_count(1)
    assert not EMOJI.search(row.inner_text())
