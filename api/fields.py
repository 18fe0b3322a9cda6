"""Strict input fields and serializers: a wrong JSON type is a 400 naming the field, never a silent coercion.

DRF's CharField turns ``123`` into ``"123"`` and IntegerField accepts ``"3"``; an
agent that sends the wrong type has misunderstood the API and should be told.
``StrictInput`` also refuses unknown keys (``assignee_slug`` instead of
``assignee`` would otherwise be ignored without a word).
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


class StrictInput(serializers.Serializer):
    """An input serializer that refuses keys it does not declare."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = self.initial_data
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                name = unknown[0]
                close = difflib.get_close_matches(name, list(self.fields), n=1, cutoff=0.5)
                hint = f" Did you mean {close[0]!r}?" if close else f" Known fields: {', '.join(self.fields)}."
                raise serializers.ValidationError({name: f"Unknown field.{hint}"})
        return attrs
