"""Run every benchmark module's ``main()`` and print one JSON object ``{module: result}``.

``python -m bench`` runs them all; ``python -m bench api sse`` only the named ones.
A benchmark that fails is reported as ``{"error": "..."}`` and the others still run.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))
    results: dict[str, Any] = {}
    failed = False
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "main", None)
        if not callable(run):
            continue
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        try:
            results[name] = run()
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            failed = True
    print(json.dumps(results, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
