"""A real Mesa under daphne for end-to-end tests: fresh migrated + bootstrapped SQLite, free loopback port."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def listening_socket() -> socket.socket:
    """A socket bound to a free loopback port and listening: handed to the server, so no one can take the port
    between choosing it and binding it (as with "find a free port, close it, tell the server its number")."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextlib.contextmanager
def reserved_port() -> Iterator[int]:
    """A free loopback port held for a server that binds it by number (``mesa.serve`` takes ``PORT``).

    The holding socket is bound with SO_REUSEADDR and never listens, so the server (Twisted binds with
    SO_REUSEADDR too) can bind the same port while nobody else is handed it; it is released on exit.
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


# One scratch directory per test process for what servers started by tests write.
_SCRATCH = Path(tempfile.mkdtemp(prefix="mesa-test-scratch-"))


def mesa_env(db_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mesa.settings",
        DATABASE_URL=f"sqlite:///{db_path}",
        MESA_TRUSTED_LOCAL="1",
        # As if the printed login link had been opened (tests/security/test_local_login.py tests the link).
        MESA_LOCAL_LOGIN="0",
        MESA_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    # Servers and commands started by tests keep their repositories, worktrees, agent homes and terminals
    # out of the checkout's var/ (a test that names its own directories overrides these).
    for name in ("MESA_REPOS_DIR", "MESA_WORKTREES_DIR", "MESA_WORKSPACES_DIR", "MESA_TERMINALS_DIR"):
        env[name] = str(_SCRATCH / name.removeprefix("MESA_").removesuffix("_DIR").lower())
    env.update(extra)
    return env


def manage(db_path: Path, *args: str, **extra: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=REPO,
        env=mesa_env(db_path, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare_db(directory: Path, *, template: str = "startup") -> Path:
    """A migrated database with the ``template`` org (noop runners), slug ``mesa``, prefix ``MESA``."""
    db = directory / "mesa.db"
    manage(db, "migrate", "--noinput", "-v", "0")
    manage(db, "bootstrap", "--template", template, "--runner", "noop", MESA_REPOS_DIR=str(directory / "repos"))
    return db


@dataclass
class Server:
    db: Path
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


def start_daphne(db: Path, log: Path, **extra: str) -> Server:
    with listening_socket() as sock, log.open("wb") as out:
        port = int(sock.getsockname()[1])
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "--fd", str(sock.fileno()), "mesa.asgi:application"],
            cwd=REPO,
            env=mesa_env(db, **extra),
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=(sock.fileno(),),
        )
    server = Server(db=db, port=port, proc=proc, log=log, extra=extra)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daphne exited: {log.read_text()}")
        try:
            # Any answer means it serves (an https-only setup answers this with a redirect).
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/palette/search?q=")
            if conn.getresponse().status < 500:
                conn.close()
                return server
            conn.close()
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"daphne did not answer in 30 s: {log.read_text()}")


def run_python(db: Path, code: str, **extra: str) -> str:
    """Run ``code`` in a separate Django process against ``db`` (another writer, like the scheduler)."""
    prelude = "import django; django.setup()\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=REPO,
        env=mesa_env(db, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"subprocess failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout
