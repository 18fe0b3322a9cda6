"""A server process freezes what start-up loaded and makes full collector passes rarer (orgs/gc_tuning.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from orgs.gc_tuning import THRESHOLDS

REPO = Path(__file__).resolve().parents[2]


def test_it_tunes_the_collector_when_the_asgi_application_loads() -> None:
    probe = (
        "import gc, django\n"
        "django.setup()\n"
        "assert gc.get_freeze_count() == 0 and gc.get_threshold() == (700, 10, 10)\n"
        "import mesa.asgi\n"
        "print(gc.get_freeze_count(), *gc.get_threshold())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    frozen, *thresholds = (int(n) for n in done.stdout.split())
    assert tuple(thresholds) == THRESHOLDS
    assert frozen > 50_000  # Django and the apps: out of the collector's walks
