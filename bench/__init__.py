"""Benchmarks: ``python -m bench`` runs every ``bench/<name>.py`` that has a ``main()`` and prints one JSON object."""

from __future__ import annotations
