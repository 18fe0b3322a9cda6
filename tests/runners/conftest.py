from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runners.sandboxes.container import remove_leftovers
from runners.sandboxes.worker import remove_worker_containers
from tests.conftest import TEST_INSTANCE

# The container tests' image: a busybox-static tree imported into podman (no registry needed).
IMAGE = "localhost/mesa-test-busybox:latest"
CONF = '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\n'


@pytest.fixture(autouse=True)
def _runner_dirs(settings: Any, tmp_path: Path) -> None:
    """Worktrees and workspaces of test runs live in the test's tmp dir; short kill grace."""
    settings.MESA_WORKTREES_DIR = str(tmp_path / "worktrees")
    settings.MESA_WORKSPACES_DIR = str(tmp_path / "workspaces")
    settings.MESA_KILL_GRACE_S = 1
    settings.MESA_MAX_RUNS = 4
    settings.MESA_MAX_RUNS_PER_AGENT = 1
    settings.MESA_RETRY_DELAY_S = 3600  # automatic retries wait unless a test wants them


def mesa_containers(engine: Any) -> list[Any]:
    """This test session's run containers (other sessions may share the engine)."""
    labels = ["mesa.run", f"mesa.instance={TEST_INSTANCE}"]
    return list(engine.containers.list(all=True, filters={"label": labels}))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with one commit on branch main."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "Test")
    (path / "README.md").write_text("hello\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "initial")
    return path


def script(tmp_path: Path, name: str, body: str) -> Path:
    """An executable Python script (the `command` runner's fake CLI)."""
    path = tmp_path / "bin" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def _add_git(root: Path) -> None:
    """The host's git and the libraries it links (the container git tests); skipped when there is no git."""
    host_git = shutil.which("git")
    if host_git is None:
        return
    shutil.copy(host_git, root / "bin" / "git")
    linked = subprocess.run(["ldd", host_git], capture_output=True, text=True, check=False).stdout
    for line in linked.splitlines():
        path = line.split("=>")[-1].split("(")[0].strip()
        if path.startswith("/"):
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A docker SDK client on a private ``podman system service`` socket, with the busybox image."""
    import docker

    podman = shutil.which("podman")
    if podman is None or not Path("/bin/busybox").exists():
        pytest.skip("podman (or busybox-static) is not installed: `make container-deps` installs them")
    scratch = tmp_path_factory.mktemp("engine")
    (scratch / "containers.conf").write_text(CONF)
    env = {"CONTAINERS_CONF": str(scratch / "containers.conf"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    root = scratch / "root"
    for sub in ("bin", "tmp", "proc", "sys", "dev", "etc", "workspace", "home/mesa"):
        (root / sub).mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    _add_git(root)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\nmesa:x:1000:1000:mesa:/home/mesa:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\nmesa:x:1000:\n")
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(
        [podman, "import", "-q", "--change", "ENV PATH=/bin", "-", IMAGE], stdin=tar.stdout, env=env, check=True
    )
    tar.wait()
    sock = scratch / "podman.sock"
    service = subprocess.Popen([podman, "system", "service", "--time=0", f"unix://{sock}"], env=env)
    for _ in range(200):  # polling for readiness, not for correctness
        if sock.exists():
            break
        time.sleep(0.05)
    client = docker.DockerClient(base_url=f"unix://{sock}", version="1.41")
    assert client.ping()
    client.mesa_url = f"unix://{sock}"  # for tests that reach it as DOCKER_HOST
    yield client
    remove_leftovers(client, live_run_ids=set(), instance=TEST_INSTANCE)
    service.terminate()
    service.wait(timeout=10)


@pytest.fixture
def on_engine(engine: Any, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Any]:
    """The ``engine`` reached as ``DOCKER_HOST`` (the persistent workers' tests); its workers removed after."""
    monkeypatch.setenv("DOCKER_HOST", engine.mesa_url)
    settings.MESA_WORKER_IMAGE = IMAGE
    yield engine
    remove_worker_containers(engine, "*", instance=TEST_INSTANCE)  # a failed test's worker
