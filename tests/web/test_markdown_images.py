"""Markdown images: same-origin and inline data images only, unless remote images are switched on."""

from __future__ import annotations

from typing import Any

from web.templatetags.mesa_tags import render_markdown


def test_it_drops_remote_images_and_keeps_local_and_data_ones(settings: Any) -> None:
    settings.MESA_MARKDOWN_REMOTE_IMAGES = False
    html = render_markdown(
        "![pixel](https://tracker.example/p.gif) ![proto](//tracker.example/q.gif) "
        "![local](/static/logo.png) ![inline](data:image/png;base64,iVBORw0KGgo=)"
    )
    assert "tracker.example" not in html
    assert 'src="/static/logo.png"' in html and 'src="data:image/png;base64,iVBORw0KGgo="' in html


def test_it_never_allows_data_links_or_svg_data_images(settings: Any) -> None:
    settings.MESA_MARKDOWN_REMOTE_IMAGES = True
    html = render_markdown("[click](data:text/html,<script>x</script>) ![s](data:image/svg+xml;base64,PHN2Zz4=)")
    assert "data:" not in html


def test_it_shows_remote_images_when_the_setting_allows_them(settings: Any) -> None:
    settings.MESA_MARKDOWN_REMOTE_IMAGES = True
    assert 'src="https://img.example/a.png"' in render_markdown("![a](https://img.example/a.png)")
