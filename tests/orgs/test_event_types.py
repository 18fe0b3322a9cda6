"""Publishers and listeners of live events stay in step (``orgs.events.EventType``).

"Published" is read from the source: every ``event_publish(..., type=EventType.NAME, ...)`` call
(ast). "Listened" is read from where events are consumed: ``mesa:<type>`` triggers in templates,
``type === "<type>"`` in the browser scripts, and every other ``EventType.NAME`` in the project's
Python (the notification map, the scheduler's wake and dispatch types, ...). A type listened for
but never published is a dead listener (a notification that can never fire); a type published
but listened for nowhere is noise, unless it is listed in ``FEED_ONLY`` on purpose.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings

from orgs.events import EventType

ROOT = Path(settings.BASE_DIR)
TEMPLATES = ROOT / "templates"
SCRIPTS = ROOT / "static" / "js"

# Published for the durable feed (API clients and the audit read it), with no live view or
# worker reacting to them yet. Adding a type here is a decision, not a way to quiet the test.
FEED_ONLY = {
    EventType.AGENT_HEARTBEAT,  # liveness pings; the agent page shows "last seen" on load
    EventType.LABEL_CREATED,  # label pickers read the labels when they open
}

TEMPLATE_TRIGGER = re.compile(r"mesa:([a-z_]+)")
JS_LOCAL_EVENT = re.compile(r"""new CustomEvent\(\s*["']mesa:([a-z_]+)["']""")
JS_TYPE_TEST = re.compile(r"""(?<![\w.])type\s*===?\s*["']([a-z_]+)["']""")


@dataclass
class PythonUse:
    published: dict[str, list[str]] = field(default_factory=dict)  # value -> where
    handled: dict[str, list[str]] = field(default_factory=dict)  # value -> where
    untyped_publishes: list[str] = field(default_factory=list)


def _is_event_type_member(node: ast.AST) -> str | None:
    """The value of ``EventType.NAME`` when ``node`` is one, else None."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
        return None
    if node.value.id != "EventType" or node.attr not in EventType.names:
        return None
    return str(EventType[node.attr].value)


def _is_publish_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name == "event_publish"


def _project_modules() -> list[Path]:
    """Every Python file of the project's own apps (and the settings package), not tests or migrations."""
    roots = {Path(config.path) for config in apps.get_app_configs() if Path(config.path).is_relative_to(ROOT)}
    roots.add(ROOT / "mesa")
    files = [path for root in roots for path in root.rglob("*.py") if "migrations" not in path.parts]
    return sorted(files)


def scan_python(files: list[Path], root: Path = ROOT) -> PythonUse:
    use = PythonUse()
    for path in files:
        where = str(path.relative_to(root))
        if where == "orgs/events.py":
            continue  # the definition
        tree = ast.parse(path.read_text(), filename=where)
        in_publish: set[int] = set()
        for node in ast.walk(tree):
            if not _is_publish_call(node):
                continue
            assert isinstance(node, ast.Call)
            in_publish.update(id(inner) for inner in ast.walk(node))
            type_arg = next((kw.value for kw in node.keywords if kw.arg == "type"), None)
            value = _is_event_type_member(type_arg) if type_arg is not None else None
            if value is None:
                shown = ast.unparse(type_arg) if type_arg is not None else "no type="
                use.untyped_publishes.append(f"{where}:{node.lineno}: {shown}")
            else:
                use.published.setdefault(value, []).append(f"{where}:{node.lineno}")
        for node in ast.walk(tree):
            value = _is_event_type_member(node)
            if value is not None and id(node) not in in_publish:
                use.handled.setdefault(value, []).append(f"{where}:{getattr(node, 'lineno', 0)}")
    return use


def scan_browser(templates: Path, scripts: Path, root: Path = ROOT) -> dict[str, list[str]]:
    """Live event types the browser reacts to: template triggers and named tests in the scripts."""
    js = {path: path.read_text() for path in sorted(scripts.rglob("*.js"))}
    local = {name for text in js.values() for name in JS_LOCAL_EVENT.findall(text)}  # dispatched by the page itself
    heard: dict[str, list[str]] = {}
    for path in sorted(templates.rglob("*.html")):
        for name in TEMPLATE_TRIGGER.findall(path.read_text()):
            if name not in local:
                heard.setdefault(name, []).append(str(path.relative_to(root)))
    for path, text in js.items():
        for name in JS_TYPE_TEST.findall(text):
            heard.setdefault(name, []).append(str(path.relative_to(root)))
    return heard


@pytest.fixture(scope="module")
def python_use() -> PythonUse:
    return scan_python(_project_modules())


def test_it_publishes_every_event_with_an_event_type_member(python_use: PythonUse) -> None:
    # A string or a variable would hide the type from this test (and from mypy).
    assert python_use.untyped_publishes == []
    assert python_use.published, "the scan found no publisher at all: it is broken"


def test_it_publishes_every_type_something_listens_for(python_use: PythonUse) -> None:
    listened = scan_browser(TEMPLATES, SCRIPTS)
    for value, where in python_use.handled.items():
        listened.setdefault(value, []).extend(where)

    # ``resync`` is the stream's own event (web/sse.py sends it when a client fell too far behind).
    published = {*python_use.published, "resync"}
    dead = {value: where for value, where in listened.items() if value not in published}

    assert dead == {}, f"listened for, never published: {dead}"


def test_it_listens_somewhere_for_every_type_it_publishes(python_use: PythonUse) -> None:
    heard = scan_browser(TEMPLATES, SCRIPTS)
    listened = set(heard) | set(python_use.handled)

    unheard = {value: where for value, where in python_use.published.items() if value not in listened | FEED_ONLY}

    assert unheard == {}, f"published, listened for nowhere: {unheard}"
    assert {t for t in FEED_ONLY if t in listened or t not in python_use.published} == set(), "stale FEED_ONLY"


def test_it_defines_no_type_that_is_never_published(python_use: PythonUse) -> None:
    assert set(EventType.values) - set(python_use.published) == set()


def test_it_sees_listeners_publishers_and_untyped_publishes_in_the_source(tmp_path: Path) -> None:
    # The scanners themselves: a trigger for a type nobody publishes, and a hand-written map entry, are seen.
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.html").write_text('<div hx-trigger="mesa:run_updated from:body, mesa:ready">')
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "x.js").write_text('body.dispatchEvent(new CustomEvent("mesa:ready")); if (type === "gone") {}')
    module = tmp_path / "consumer.py"
    module.write_text(
        "def f(event):\n    return event.type == EventType.ISSUE_DELETED\n"
        "event_publish(org=o, type=EventType.WIKI_UPDATED, data={})\nevent_publish(org=o, type='raw', data={})\n"
    )

    heard = scan_browser(tmp_path / "templates", tmp_path / "js", root=tmp_path)
    use = scan_python([module], root=tmp_path)

    assert set(heard) == {"run_updated", "gone"}
    assert set(use.handled) == {"issue_deleted"} and set(use.published) == {"wiki_updated"}
    assert len(use.untyped_publishes) == 1 and "'raw'" in use.untyped_publishes[0]


def test_it_gives_the_browser_every_event_type(client: Any, org: Any) -> None:
    page = client.get("/").content.decode()

    found = re.search(r'<script id="mesa-event-types" type="application/json">(.*?)</script>', page, re.S)

    assert found is not None
    assert sorted(json.loads(found.group(1))) == sorted(EventType.values)
    script = (SCRIPTS / "mesa.js").read_text()
    assert "mesa-event-types" in script
    # The list is not copied into the script any more.
    assert not re.search(r'"issue_created",\s*"issue_updated"', script)


def test_it_refreshes_pages_from_live_events_not_by_polling() -> None:
    polling = [
        str(path.relative_to(ROOT))
        for path in TEMPLATES.rglob("*.html")
        if re.search(r'hx-trigger="[^"]*\bevery\s', path.read_text())
    ]

    assert polling == []
