"""`python manage.py doctor`: which runner binaries (and git) are installed, their versions, what is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from runners.registry import RUNNERS, runner_for

VERSION_TIMEOUT_S = 5.0


def binary_version(path: str, args: tuple[str, ...] = ("--version",)) -> str:
    """First line of ``<bin> --version`` (short timeout), or a note saying why there is none."""
    try:
        proc = subprocess.run(  # a fixed binary path with fixed arguments
            [path, *args],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"(no answer to {' '.join(args)} within {VERSION_TIMEOUT_S:.0f} s)"
    except OSError as exc:
        return f"(cannot run: {exc.strerror or exc})"
    out = (proc.stdout or proc.stderr).strip().splitlines()
    return out[0].strip()[:120] if out else f"(exit code {proc.returncode}, no output)"


def doctor_rows() -> list[dict[str, str]]:
    """One row per runner (and git): name, binary, path, version, status (ok / missing / builtin)."""
    rows: list[dict[str, str]] = []
    for name in RUNNERS:
        runner = runner_for(name)
        binary = type(runner).binary
        if not binary:
            # command: each agent names its own executable (model field); the run checks it.
            status = "per-agent" if name == "command" else "builtin"
            rows.append({"runner": name, "binary": "-", "path": "", "version": "", "status": status})
            continue
        path = shutil.which(binary, path=os.environ.get("PATH", os.defpath))
        if path is None:
            rows.append({"runner": name, "binary": binary, "path": "", "version": "", "status": "missing"})
            continue
        version = binary_version(path, tuple(type(runner).version_args))
        rows.append({"runner": name, "binary": binary, "path": path, "version": version, "status": "ok"})
    git = shutil.which("git")
    rows.append(
        {
            "runner": "(worktrees)",
            "binary": "git",
            "path": git or "",
            "version": binary_version(git) if git else "",
            "status": "ok" if git else "missing",
        }
    )
    return rows


class Command(BaseCommand):
    help = "List the runner binaries Mesa can use: installed (with version) or missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = doctor_rows()
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for row in rows:
            detail = row["version"] or row["path"]
            self.stdout.write(f"{row['status']:<8} {row['runner']:<12} {row['binary']:<10} {detail}")
        missing = [r["binary"] for r in rows if r["status"] == "missing"]
        if missing:
            self.stdout.write(f"missing: {', '.join(missing)} (install them to use those runners)")
        else:
            self.stdout.write("nothing missing")
