"""Strict input fields and serializers: a wrong JSON type is a 400 naming the field, never a silent coercion.

DRF's CharField turns ``123`` into ``"123"`` and IntegerField accepts ``"3"``; an
agent that sends the wrong type has misunderstood the API and should be told.
``StrictInput`` also refuses unknown keys (``asignee`` instead of
``assignee`` would otherwise be ignored without a word), except the documented aliases.
"""

from __future__ import annotations

import difflib
from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


# Large enough for any id or budget, small enough for every database's 64-bit integers.
MAX_INT = 2**53


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"not_an_integer": "Must be a whole number (a JSON number, not a string)."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_value", MAX_INT)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"not_a_boolean": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return bool(data)


# The original Mesa's field names, per input serializer: alias → our field. Agents, skills and scripts
# written for it send these; this table is the one place they are accepted (StrictInput renames them
# before validation, and the schema lists them as deprecated properties). tests/api/test_aliases.py
# holds every entry to a real serializer and field.
ORIGINAL_MESA_ALIASES: dict[str, dict[str, str]] = {
    "IssueCreateInput": {"assignee_slug": "assignee", "parent_issue_key": "parent"},
    "IssueUpdateInput": {"assignee_slug": "assignee", "parent_issue_key": "parent"},
    "CheckoutInput": {"agentId": "agent_id", "expectedStatuses": "expected_statuses"},
    "ApprovalCreateInput": {"issue_key": "issue"},
    "BlockIssuesInput": {"issue_key": "key"},
}


class StrictInput(serializers.Serializer):
    """An input serializer that refuses keys it does not declare, except its documented aliases.

    :attr:`aliases` (from ``ORIGINAL_MESA_ALIASES``) maps another name a client may send to the
    field it stands for. An alias is renamed before validation (errors name our field); sending
    both names is a 400.
    """

    @property
    def aliases(self) -> dict[str, str]:
        return ORIGINAL_MESA_ALIASES.get(type(self).__name__, {})

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and self.aliases:
            data = dict(data)
            for alias, name in self.aliases.items():
                if alias not in data:
                    continue
                if name in data:
                    raise serializers.ValidationError({alias: f"Send {name!r} or its alias {alias!r}, not both."})
                data[name] = data.pop(alias)
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = self.initial_data
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields) - set(self.aliases))
            if unknown:
                name = unknown[0]
                known = [*self.fields, *self.aliases]
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
                if close:
                    close = [self.aliases.get(close[0], close[0])]
                hint = f" Did you mean {close[0]!r}?" if close else f" Known fields: {', '.join(self.fields)}."
                raise serializers.ValidationError({name: f"Unknown field.{hint}"})
        return attrs
