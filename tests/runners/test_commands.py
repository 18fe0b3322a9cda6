from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command

from tests.runners.conftest import script


def test_it_lists_installed_runner_binaries_with_versions_and_the_missing_ones(
    db: None, tmp_path: Path, monkeypatch: Any
) -> None:
    script(tmp_path, "claude", "print('9.9.9 (Claude Code)')\n")
    git_dir = Path("/usr/bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{git_dir}")
    out = StringIO()
    call_command("doctor", json=True, stdout=out)
    rows = {row["runner"]: row for row in json.loads(out.getvalue())["runners"]}
    assert rows["claude_code"]["status"] == "ok" and rows["claude_code"]["version"] == "9.9.9 (Claude Code)"
    assert rows["codex"]["status"] == "missing"
    assert rows["noop"]["status"] == "builtin"
    assert rows["(worktrees)"]["binary"] == "git" and rows["(worktrees)"]["status"] == "ok"

    text = StringIO()
    call_command("doctor", stdout=text)
    assert "missing: " in text.getvalue() and "codex" in text.getvalue()


def test_it_reports_a_binary_that_hangs_on_version(tmp_path: Path, monkeypatch: Any) -> None:
    from runners.management.commands import doctor

    hang = script(tmp_path, "hang", "import time\ntime.sleep(30)\n")
    monkeypatch.setattr(doctor, "VERSION_TIMEOUT_S", 0.3)
    assert "no answer" in doctor.binary_version(str(hang))
