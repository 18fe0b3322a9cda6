"""`python manage.py doctor`: which runner binaries (and git) are installed, their versions, what is missing;
the container engine (kind, version, socket) and its images; and for each agent whether it can run, and why not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from agents.models import Agent, AgentStatus
from runners.readiness import agent_problem
from runners.registry import RUNNERS, runner_for
from runners.sandboxes.engine import EngineInfo, engine_info, worker_image

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


def engine_row(info: EngineInfo) -> dict[str, Any]:
    return {
        "url": info.url,
        "kind": info.kind,
        "version": info.version,
        "status": "ok" if info.ok else "missing",
        "error": info.error,
        "images": info.images,
    }


def agent_rows(agents: list[Agent], info: EngineInfo) -> list[dict[str, Any]]:
    """One row per agent: org, slug, runner, sandbox, the problem that stops it ("" = it can run) and, for a
    container agent, its image and whether the engine has it (None: no engine answered)."""
    rows: list[dict[str, Any]] = []
    for agent in agents:
        image = (agent.container_image or worker_image()) if agent.sandbox == "container" else ""
        rows.append(
            {
                "org": agent.org.slug,
                "agent": agent.slug,
                "runner": agent.runner,
                "sandbox": agent.sandbox,
                "image": image,
                "image_present": (image in info.images if info.ok else None) if image else None,
                "problem": agent_problem(agent, images=info.images if info.ok else None),
            }
        )
    return rows


class Command(BaseCommand):
    help = "List the runner binaries Mesa can use: installed (with version) or missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = doctor_rows()
        info = engine_info()
        agents = list(
            Agent.objects.exclude(status=AgentStatus.TERMINATED).select_related("org").order_by("org__slug", "slug")
        )
        agents_out = agent_rows(agents, info)
        if options["json"]:
            report = {"runners": rows, "engine": engine_row(info), "agents": agents_out}
            self.stdout.write(json.dumps(report, indent=2))
            return
        for row in rows:
            detail = row["version"] or row["path"]
            self.stdout.write(f"{row['status']:<8} {row['runner']:<12} {row['binary']:<10} {detail}")
        if info.ok:
            self.stdout.write(f"ok       (containers) {info.kind} {info.version} at {info.url}")
            self.stdout.write(f"         images: {', '.join(info.images) or '(none)'}")
        else:
            self.stdout.write(f"missing  (containers) {info.error}")
        for agent in agents_out:
            state = f"cannot run: {agent['problem']}" if agent["problem"] else "can run"
            where = agent["sandbox"]
            if agent["image"]:
                present = {True: "present", False: "absent", None: "unknown"}[agent["image_present"]]
                where = f"{where}, image {agent['image']} {present}"
            self.stdout.write(f"agent    {agent['org']}/{agent['agent']} ({agent['runner']}, {where}): {state}")
        missing = [r["binary"] for r in rows if r["status"] == "missing"]
        if missing:
            self.stdout.write(f"missing: {', '.join(missing)} (install them to use those runners)")
        else:
            self.stdout.write("nothing missing")
