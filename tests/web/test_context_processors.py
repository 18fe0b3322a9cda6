"""Choices reach templates and mesa.js from the models alone (web.context_processors.model_choices)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings

from issues.models import IssueType, Priority, Status

MESA_JS = Path(settings.BASE_DIR) / "static" / "js" / "mesa.js"


def options(body: str, name: str) -> list[list[str]]:
    """[value, label] of each option of the quick-create dialog's ``<select name=…>``."""
    dialog = body[body.index('<dialog id="quick-create"') :]
    select = re.search(rf'<select name="{name}".*?</select>', dialog, re.S)
    assert select is not None, name
    return [[v, label] for v, label in re.findall(r'<option value="([^"]*)">([^<]*)</option>', select.group(0))]


def test_it_gives_pages_and_mesa_js_the_choices_of_the_models(client: Any, org: Any) -> None:
    body = client.get("/issues/").content.decode()
    found = re.search(r'<script id="mesa-choices" type="application/json">(.*?)</script>', body)
    assert found is not None
    choices = json.loads(found.group(1))
    assert choices["statuses"] == [list(c) for c in Status.choices]
    assert sorted(map(tuple, choices["priorities"])) == sorted(Priority.choices)
    assert choices["priorities"][0] == [Priority.NONE, "No priority"]
    assert choices["types"] == [list(c) for c in IssueType.choices]
    assert options(body, "priority") == [[str(v), label] for v, label in choices["priorities"]]
    assert options(body, "type") == choices["types"]


def test_it_keeps_no_copy_of_the_choices_in_mesa_js() -> None:
    script = MESA_JS.read_text()
    assert 'getElementById("mesa-choices")' in script
    copies = [
        str(label)
        for label in [*Status.labels, *Priority.labels, *IssueType.labels]
        if re.search(rf"""["']{re.escape(str(label))}["']""", script)
    ]
    assert copies == []
