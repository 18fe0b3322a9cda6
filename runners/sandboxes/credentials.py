"""CLI logins for container runs: read-only copies of the Mesa machine's credential files, per agent.

An agent's ``credential_mounts`` names credential sets (``agents.models.CredentialSet``; choosing them is the
instance operator's, ``agents.services``). For each chosen set, the files of :data:`CREDENTIAL_FILES` that
exist under :func:`credentials_home` (the Mesa user's home, or ``MESA_CREDENTIALS_HOME``) are copied into
the run's scratch directory, owned by the run's user, mode 0400, which the container sees read-only at
:data:`MOUNTED`; the command's wrapper copies them into the tmpfs home (:data:`COPY_INTO_HOME`) so the
CLI finds them where it looks and may rewrite its copy (token refresh, session state) without touching
the host's. Only the login and settings files, never the rest of ``~/.claude`` (other projects' history).
The copies are removed with the run's scratch directory; nothing goes into the image or the run's output.

An API key given as environment (the agent's ``env``, encrypted at rest, redacted from output) reaches the
container as environment too; that needs no credential set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from django.conf import settings

MOUNTED = "/run/mesa/credentials"  # inside: the run dir's credentials/ (the run dir is mounted read-only)
COPY_INTO_HOME = f'if [ -d {MOUNTED} ]; then cp -R {MOUNTED}/. "$HOME"/ && chmod -R u+w "$HOME"; fi; '
# Per set, the files a CLI needs to be logged in (paths relative to the home directory).
CREDENTIAL_FILES: dict[str, tuple[str, ...]] = {
    "claude": (".claude/.credentials.json", ".claude/settings.json", ".claude.json"),
    "codex": (".codex/auth.json", ".codex/config.toml"),
    "gemini": (".gemini/oauth_creds.json", ".gemini/google_accounts.json", ".gemini/settings.json"),
    "opencode": (".local/share/opencode/auth.json", ".config/opencode/opencode.json"),
}  # a set is "available" (its CLI is logged in here) when its first file exists


def credentials_home() -> Path:
    return Path(str(getattr(settings, "MESA_CREDENTIALS_HOME", "") or Path.home())).expanduser()


def available(name: str) -> bool:
    """The Mesa machine has the login file of credential set ``name``."""
    files = CREDENTIAL_FILES.get(name, ())
    return bool(files) and (credentials_home() / files[0]).is_file()


def stage(names: list[str], scratch: Path, *, uid: int, gid: int) -> list[str]:
    """Copy the chosen sets' existing files into ``scratch/credentials``; the home-relative paths copied.

    Regular files only (a link is not followed). Nothing is created when none of the files exists.
    """
    home = credentials_home()
    copied: list[str] = []
    target_root = scratch / "credentials"
    for name in names:
        for relative in CREDENTIAL_FILES.get(name, ()):
            source = home / relative
            if source.is_symlink() or not source.is_file():
                continue
            target = target_root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            target.chmod(0o400)
            copied.append(relative)
    if copied:
        for root, _dirs, files in os.walk(target_root):
            os.chmod(root, 0o700)  # the run's user alone; read-only inside (the run dir's mount)
            os.lchown(root, uid, gid)
            for entry in files:
                os.lchown(os.path.join(root, entry), uid, gid)
    return copied


# Variables that give Codex an API key without a login file.
CODEX_KEY_VARS = ("OPENAI_API_KEY", "CODEX_API_KEY")


def codex_tool_available(*, sandbox: str, credential_mounts: list[str], env: dict[str, str]) -> bool:
    """Can a run reach Codex as an MCP tool: an API key in its environment, else Codex's login file where the
    run is (a container run: only when the operator chose the ``codex`` credential set for it)."""
    if any(env.get(name) for name in CODEX_KEY_VARS):
        return True
    if sandbox == "container" and "codex" not in credential_mounts:
        return False
    return available("codex")
