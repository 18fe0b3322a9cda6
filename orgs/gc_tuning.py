"""The cyclic garbage collector, tuned for a long-lived server process.

Python's collector runs a young-generation pass every 700 net allocations of container objects and a full
pass over every tracked object every 100 young passes or so. A Mesa server holds ~150,000 such objects
from start-up (Django, the apps, DRF), and a request allocates thousands more: the full passes, each
walking the whole heap with the GIL held, were the latency tail. Measured with ``make bench`` (one daphne
process, 10 clients): GET one issue p99 119 ms and POST a comment p99 152 ms with the default collector;
with the objects of start-up frozen and the thresholds below, 24 ms and 43 ms, the same machine and hour.

``gc.freeze()`` moves every object alive now to a permanent generation the collector never walks (they
live as long as the process anyway). The older thresholds make middle and full passes rarer: one full
pass per four million net allocations, where the defaults made one per 70,000. Nothing is switched off:
cycles are still collected.

The young threshold stays small. A request leaves cyclic garbage behind (a Django request and its
response refer to each other), so a young pass does real work: freeing it. At 10,000 a pass came every
60 or so requests and cost about 3 ms, and those requests were the single client's p99 (GET one issue:
p50 1.5 ms, p99 4.7–4.8 ms); at 2,000 (with the middle threshold raised so that middle passes stay as
rare) the same server answered p99 2.3–2.6 ms, with the same CPU per request and throughput at 10
clients (same machine and hour, alternating runs).
"""

from __future__ import annotations

import gc
import os

THRESHOLDS = (2_000, 100, 20)


def gc_tune() -> None:
    """Freeze what is alive now and set the thresholds; call once the server's code is loaded.

    ``MESA_GC_TUNE=0`` leaves Python's defaults (to compare, or should a library misbehave with them).
    """
    if os.environ.get("MESA_GC_TUNE", "").strip() == "0":
        return
    # No gc.collect() first: it would cost the cold start a full pass for the little garbage start-up leaves.
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
