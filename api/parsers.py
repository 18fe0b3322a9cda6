"""The API's JSON parser: DRF's, with a nesting limit.

A deeply nested body (100,000 ``[``) makes ``json.loads`` raise ``RecursionError``, which is no
``ValueError``, so DRF let it through as a 500. Bodies nested deeper than ``MAX_DEPTH`` are refused
with a 400 before they are parsed; the scan is skipped when the body holds too few brackets to
be that deep.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from rest_framework import parsers

from orgs.errors import InvalidInput

MAX_DEPTH = 64


def json_depth(raw: bytes, *, limit: int) -> int:
    """The nesting depth of the JSON text ``raw`` (brackets inside strings do not count); stops past ``limit``."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and json_depth(raw, limit=MAX_DEPTH) > MAX_DEPTH:
            raise InvalidInput(f"The JSON body is nested deeper than {MAX_DEPTH} levels.", code="too_deep")
        return super().parse(io.BytesIO(raw), media_type, parser_context)
