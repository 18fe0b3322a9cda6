"""Reflections: the last step of every task and review prompt asks the agent for one line starting
``REFLECTION:`` (``runners.prompt.REFLECTION_ASK``); this reads it from what the agent said.

Why a marker in the same run rather than a follow-up call: it costs no extra run nor tokens, works
with every runner (not all CLIs can resume a session), and the agent writes it with the whole run
still in its context.
"""

from __future__ import annotations

import re

from learning.models import Reflection
from learning.services import reflection_record
from runners.models import Run
from runners.prompt import REFLECTION_MARKER

_MARKER = re.compile(rf"^[\s>*_`#-]*{re.escape(REFLECTION_MARKER)}\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def reflection_text(said: str) -> str:
    """The agent's last reflection line in ``said`` (markdown decoration stripped), or ""."""
    found = _MARKER.findall(said or "")
    return found[-1].strip().strip("*_`").strip() if found else ""


def reflection_capture(run: Run, said: str) -> Reflection | None:
    return reflection_record(agent=run.agent, run=run, issue=run.issue, text=reflection_text(said))
