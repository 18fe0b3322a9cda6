"""Input of the learning routes that the cheat sheet teaches (``api.cheatsheet``)."""

from __future__ import annotations

from api.fields import StrictCharField, StrictInput


class SkillProposeInput(StrictInput):
    title = StrictCharField(max_length=200)
    body = StrictCharField(max_length=8000, help_text="The reusable instruction or script that worked.")
    archetype = StrictCharField(required=False, default="", allow_blank=True, max_length=60)
    agent = StrictCharField(required=False, default="", allow_blank=True, help_text="An agent slug.")
    reason = StrictCharField(required=False, default="", allow_blank=True, max_length=2000)
