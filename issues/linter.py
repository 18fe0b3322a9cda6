"""The acceptance-criteria linter: warnings (never refusals) for a feature or bug created without criteria.

An issue *has* acceptance criteria when any of these holds:

* its ``acceptance_criteria`` field has text;
* its description has a markdown heading "Acceptance criteria" (or "AC"), at any level, followed by some text;
* its description has a checklist item (``- [ ] …`` / ``* [x] …``), which is how criteria are usually written.

Only the types whose outcome must be checked are linted: ``feature`` and ``bug``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from issues.models import IssueType

LINTED_TYPES = frozenset({IssueType.FEATURE, IssueType.BUG})
HEADING_RE = re.compile(r"^[ \t]*#{1,6}[ \t]*(?:acceptance[ \t]+criteria|ac)[ \t]*:?[ \t]*#*[ \t]*$", re.I | re.M)
CHECKLIST_RE = re.compile(r"^[ \t]*[-*+][ \t]+\[[ xX]\][ \t]+\S", re.M)
NEXT_HEADING_RE = re.compile(r"^[ \t]*#{1,6}[ \t]", re.M)


@dataclass(frozen=True)
class LintWarning:
    code: str
    field: str
    message: str


def _heading_with_text(description: str) -> bool:
    for match in HEADING_RE.finditer(description):
        rest = description[match.end() :]
        following = NEXT_HEADING_RE.search(rest)
        if rest[: following.start() if following else None].strip():
            return True
    return False


def has_acceptance_criteria(*, description: str, acceptance_criteria: str) -> bool:
    description = description or ""
    return bool(
        (acceptance_criteria or "").strip() or _heading_with_text(description) or CHECKLIST_RE.search(description)
    )


def acceptance_warnings(*, type: str, description: str, acceptance_criteria: str) -> list[LintWarning]:
    if type not in LINTED_TYPES or has_acceptance_criteria(
        description=description, acceptance_criteria=acceptance_criteria
    ):
        return []
    return [
        LintWarning(
            code="no_acceptance_criteria",
            field="acceptance_criteria",
            message=(
                f"This {type} has no acceptance criteria: say how to tell it is done (fill in acceptance "
                "criteria, or add an '## Acceptance criteria' section or a '- [ ]' checklist to the description)."
            ),
        )
    ]
