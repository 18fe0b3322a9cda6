"""Logging helpers."""

from __future__ import annotations

import logging


class OneLine(logging.Filter):
    """Drops the traceback of a record: a request with a bad Host header is one log line, not thirty."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True
