"""Charts (issue 12, bug 9): a day is one slot of fourteen, and date labels fit, today's included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page

from tests.browser.server import Server

pytestmark = pytest.mark.browser


def test_it_gives_one_day_of_activity_one_narrow_bar(page: Page, mesa: Server) -> None:
    page.goto(f"{mesa.url}/activity/")
    chart = page.locator("svg.chart").first
    width = chart.bounding_box()["width"]  # type: ignore[index]
    bars = chart.locator("rect.bar")
    assert bars.count() == 14
    assert all(bars.nth(i).bounding_box()["width"] < width * 0.1 for i in range(14))  # type: ignore[index]


def test_it_labels_today_and_clips_no_date_label(page: Page, mesa: Server) -> None:
    page.goto(f"{mesa.url}/usage/")
    chart = page.locator("svg.chart").first
    box = chart.bounding_box()
    assert box is not None
    labels = chart.locator("text")
    texts = labels.evaluate_all("els => els.map(e => e.textContent)")
    assert texts[-1] == datetime.now(UTC).strftime("%m-%d")
    for i in range(labels.count()):
        if not texts[i]:
            continue
        label = labels.nth(i).bounding_box()
        assert label is not None
        assert label["x"] >= box["x"] - 0.5 and label["x"] + label["width"] <= box["x"] + box["width"] + 0.5, texts[i]
