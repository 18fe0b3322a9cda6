"""Run every benchmark module's ``main()`` and print one JSON object ``{module: result, "comparison": [...]}``.

``python -m bench`` runs them all (except the modules marked ``DEFAULT = False``); ``python -m bench api sse``
only the named ones; ``python -m bench --scale [--runs N]`` the scale-mode soak on PostgreSQL (bench/scale.py).
A benchmark that fails is reported as ``{"error": "..."}`` and the others still run. ``comparison`` puts
each measured figure next to Paperclip's and Mesa's target (bench/targets.py) with a met/missed flag.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from bench.targets import comparison

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmark modules to run (default: all but scale)")
    parser.add_argument("--scale", action="store_true", help="the scale-mode soak (PostgreSQL, + Redis if it answers)")
    parser.add_argument("--runs", type=int, default=None, help="noop runs in the scale soak (default 1000)")
    args = parser.parse_args(argv)
    names = list(args.names)
    if args.scale and "scale" not in names:
        names.append("scale")
    if not names:
        for path in sorted(HERE.glob("*.py")):
            if not path.stem.startswith("_") and getattr(
                importlib.import_module(f"bench.{path.stem}"), "DEFAULT", True
            ):
                names.append(path.stem)
    results: dict[str, Any] = {}
    failed = False
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "main", None)
        if not callable(run):
            continue
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        try:
            results[name] = run(runs=args.runs) if name == "scale" and args.runs else run()
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            failed = True
    results["comparison"] = comparison(results)
    print(json.dumps(results, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
