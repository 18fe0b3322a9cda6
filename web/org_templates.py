"""Org templates: TOML data files that describe a team (agents, reporting lines, labels).

Built-in templates live in ``web/org_templates/``; files in ``MESA_TEMPLATES_DIR``
are listed too and win over built-in ones with the same name.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from orgs.errors import InvalidInput, NotFound

BUILTIN_DIR = Path(__file__).resolve().parent / "org_templates"
# A template name is a file stem, never a path (no "../" out of the template directories).
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$")


@dataclass(frozen=True)
class OrgTemplate:
    slug: str
    name: str
    description: str
    agents: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = None


def _dirs() -> list[Path]:
    extra = settings.MESA_TEMPLATES_DIR
    return ([Path(extra)] if extra else []) + [BUILTIN_DIR]


def _load(path: Path) -> OrgTemplate:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Template {path.name} is not valid TOML: {exc}", field="template") from exc
    agents = data.get("agents", [])
    labels = data.get("labels", [])
    if not isinstance(agents, list) or not isinstance(labels, list):
        raise InvalidInput(f"Template {path.name}: agents and labels must be arrays of tables.", field="template")
    for spec in agents:
        if not isinstance(spec, dict) or not isinstance(spec.get("slug"), str) or not spec["slug"]:
            raise InvalidInput(f"Template {path.name}: every [[agents]] entry needs a slug.", field="template")
    return OrgTemplate(
        slug=path.stem,
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", "")),
        agents=agents,
        labels=labels,
        path=path,
    )


def template_list() -> list[OrgTemplate]:
    found: dict[str, Path] = {}
    for directory in _dirs():
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                found.setdefault(path.stem, path)
    return [_load(found[slug]) for slug in sorted(found)]


def template_get(slug: str) -> OrgTemplate:
    for directory in _dirs() if NAME_RE.match(slug or "") else []:
        path = directory / f"{slug}.toml"
        if path.is_file():
            return _load(path)
    names = ", ".join(t.slug for t in template_list())
    raise NotFound(f"There is no org template {slug!r}. Templates: {names}.")
