"""docker/Dockerfile builds from a local base and serves what `make run` serves, as a non-root user.

The build installs Mesa's dependencies from PyPI (podman's NAT reaches it); behind this host's
TLS-intercepting proxy, pip gets the host's CA bundle through the PIP_CERT build argument.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docker.conftest import REPO, Podman
from tests.orgs.postgres import pg_database

pytestmark = pytest.mark.slow
IMAGE = "localhost/mesa:test"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
PROBE = "import sys, urllib.request as u; print(u.urlopen(f'http://127.0.0.1:{sys.argv[1]}/login/', timeout=5).status)"


@pytest.fixture(scope="module")
def mesa_image(podman: Podman, base_image: str) -> str:
    ca = ["--volume", f"{HOST_CA}:/run/build-ca.crt:ro", "--build-arg", "PIP_CERT=/run/build-ca.crt"]
    args = ["-f", str(REPO / "docker" / "Dockerfile"), "--build-arg", f"BASE={base_image}", "-t", IMAGE]
    podman("build", "-q", *args, *(ca if HOST_CA.is_file() else []), str(REPO), timeout=1800)
    return IMAGE


@pytest.fixture
def mesa(podman: Podman, mesa_image: str) -> Iterator[str]:
    """A running Mesa container (its own loopback only: --network=none), removed afterwards."""
    name = f"mesa-image-test-{os.getpid()}"
    podman("run", "-d", "--name", name, "--network=none", mesa_image)
    try:
        yield name
    finally:
        podman("rm", "-f", name)


def _wait_for_http(podman: Podman, name: str, port: int = 3001) -> str:
    """The status of /login/ once daphne answers inside the container (migrations and bootstrap come first)."""
    last = ""
    for _ in range(300):  # polling for readiness, not for correctness
        done = podman.try_run(["exec", name, "python", "-c", PROBE, str(port)])
        if done.returncode == 0:
            return done.stdout.strip()
        last = done.stderr[-500:]
        if podman.try_run(["inspect", "-f", "{{.State.Running}}", name]).stdout.strip() != "true":
            break  # it exited: waiting longer cannot help
        time.sleep(0.5)
    logs = podman.try_run(["logs", name])  # Mesa logs to stderr
    raise AssertionError(f"Mesa never answered in the container: {last}\n{(logs.stdout + logs.stderr)[-3000:]}")


def test_it_migrates_bootstraps_and_serves_on_3001_as_a_non_root_user(podman: Podman, mesa: str) -> None:
    assert _wait_for_http(podman, mesa) == "200"
    assert podman("exec", mesa, "id", "-u").strip() == "1000"
    logs = podman.try_run(["logs", mesa])
    output = logs.stdout + logs.stderr
    assert "Created org " in output and "from template startup" in output
    assert "Mesa is serving on http://0.0.0.0:3001/" in output
    # What Mesa writes lands in the one directory its user owns (compose.yaml's volume).
    assert {"mesa.db", "secret-key", "secrets-key"} <= set(podman("exec", mesa, "ls", "/app/var").split())


@pytest.mark.postgres
def test_it_runs_on_postgres_through_database_url(podman: Podman, mesa_image: str) -> None:
    import psycopg  # the driver is an extra; pg_database() skips the test without it

    with socket.socket() as probe:  # a free port: the container shares the host's network to reach Postgres
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pg_database() as url:
        name = f"mesa-image-pg-{os.getpid()}"
        env = [f"DATABASE_URL={url}", f"PORT={port}", "MESA_HOST=127.0.0.1", "MESA_SCHEDULER=off"]
        podman("run", "-d", "--name", name, "--network=host", *(a for e in env for a in ("-e", e)), mesa_image)
        try:
            assert _wait_for_http(podman, name, port) == "200"
        finally:
            podman("rm", "-f", name)
        with psycopg.connect(url) as conn:
            orgs = conn.execute("SELECT slug FROM orgs_org").fetchall()
        assert orgs == [("mesa",)]  # migrated and bootstrapped in Postgres, not in a SQLite file
