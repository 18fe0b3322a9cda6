"""Podman for the image tests: runc and the ulimit config this host needs, and a Debian base made locally.

No container registry is reachable: the base image comes from ``docker/make-base.sh`` (debootstrap from
Debian's mirror, then ``podman import``), tagged by the script's checksum and kept in podman's storage, so
only the first run on a machine pays for it. The builds themselves reach Debian's mirror (and PyPI for
Mesa's image) through podman's NAT, and their layers are cached between runs too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# crun fails on this cgroup v1 hybrid host and root may not raise RLIMIT_NOFILE past 20000
# (../shared/reference/environment.md).
CONF = '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\n'


@dataclass
class Podman:
    env: dict[str, str]

    def __call__(self, *args: str, timeout: float = 120) -> str:
        """Run ``podman ARGS``; its stdout, or a failure that shows what podman said."""
        return self.run([shutil.which("podman") or "podman", *args], timeout=timeout)

    def run(self, argv: list[str], timeout: float) -> str:
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout, check=False)
        assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def try_run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``podman ARGS`` whatever its exit status (for polling and for reading both streams)."""
        argv = [shutil.which("podman") or "podman", *args]
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    assert shutil.which("podman"), "podman is not installed: `make test` installs it (make container-deps)"
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(CONF)
    path = f"/usr/local/sbin:/usr/sbin:/sbin:{os.environ.get('PATH', '/usr/bin:/bin')}"  # debootstrap is in sbin
    return Podman(env={**os.environ, "PATH": path, "CONTAINERS_CONF": str(conf)})


@pytest.fixture(scope="session")
def base_image(podman: Podman) -> str:
    """The Debian trixie minbase image (debian:trixie-slim's equivalent), made once per machine."""
    return podman.run([str(REPO / "docker" / "make-base.sh")], timeout=900).strip().splitlines()[-1]
