from __future__ import annotations

from web.templatetags.mesa_tags import markdown_filter, markdown_inline, payload_fields


def test_it_renders_task_lists_as_checkboxes() -> None:
    html = str(markdown_filter("- [ ] write it\n- [x] test it\n- plain [ ] item"))
    assert '<li class="task"><input type="checkbox" disabled=""> write it</li>' in html
    assert '<li class="task"><input type="checkbox" disabled="" checked=""> test it</li>' in html
    assert "<li>plain [ ] item</li>" in html
    assert "[ ]" not in html.replace("plain [ ] item", "")


def test_it_keeps_scripts_out_of_task_lists() -> None:
    html = str(markdown_filter("- [ ] <script>alert(1)</script><input onfocus=x>"))
    assert "<script" not in html and "onfocus" not in html


def test_it_renders_a_title_as_inline_markdown() -> None:
    assert str(markdown_inline("Drop **all** `rows`")) == "Drop <strong>all</strong> <code>rows</code>"


def test_it_lists_the_plain_payload_fields() -> None:
    fields = payload_fields({"rows": 18234, "table_name": "events", "agent": {"slug": "x"}, "empty": ""})
    assert fields == [("rows", "18234"), ("table name", "events")]
