"""The nouns an org export is made of: one module each in ``transfer/nouns``, listed here in import order.

A noun writes its files into the bundle (relative path → text) and reads them back. Importing matches
rows by a natural key (slug, name, issue number, page slug, position among equal titles), so importing
the same bundle twice changes nothing the second time. A new noun is a module with ``NAME``,
``export(org, bundle)`` and ``load(ctx)`` added to ``nouns()``, after the nouns it refers to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from orgs.actors import Actor
from orgs.models import Org

Bundle = dict[str, str]


@dataclass
class ImportContext:
    org: Org
    bundle: Bundle
    actor: Actor
    dry_run: bool
    # What changed (or would change), one line each: "create agent ceo", "update issue MESA-3: status".
    changes: list[str] = field(default_factory=list)
    # Secrets the bundle names but never carries: "agent ceo env OPENAI_API_KEY".
    to_fill_in: list[str] = field(default_factory=list)
    # Lookups nouns share: agents by slug, labels by name, work blocks by export id.
    refs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def change(self, line: str) -> None:
        self.changes.append(line)


class Noun(Protocol):
    NAME: str

    def export(self, org: Org, bundle: Bundle) -> None: ...

    def load(self, ctx: ImportContext) -> None: ...


def nouns() -> list[Noun]:
    # Imported here so the registry module itself stays free of the nouns' app imports (and cycles).
    from transfer.nouns import agents, archetypes, blocks, chat, issues, labels, policies, skills, wiki

    return [archetypes, agents, labels, blocks, issues, wiki, chat, skills, policies]


# Hooks other apps may register (e.g. a learning app's skills and policies) without editing this file.
_extra: list[Callable[[], Noun]] = []


def register(factory: Callable[[], Noun]) -> None:
    if factory not in _extra:
        _extra.append(factory)


def all_nouns() -> list[Noun]:
    return [*nouns(), *(factory() for factory in _extra)]
