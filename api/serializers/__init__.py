"""Input/output serializers of the API, one module per noun."""

from __future__ import annotations
