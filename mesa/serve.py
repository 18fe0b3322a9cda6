"""`make run`: migrate, bootstrap on an empty database, then serve HTTP and run the scheduler.

One Django start-up does the checks (saving the ~0.5 s a separate ``manage.py``
call costs). With ``MESA_WEB_WORKERS=1`` daphne serves in this process; with more
(the default is the number of cores) this process binds the port once and starts
that many daphne workers on it (``python -m mesa.serve --worker FD``), restarting
one that dies. Django runs sync views on one thread per process, so the workers are
what lets requests use more than one core. The scheduler runs in a thread of this
process once the port is open (``MESA_SCHEDULER=process`` runs it as a child
process instead, ``off`` not at all); everything stops together.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from runners.parent import PARENT_ENV, die_with_parent

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesa.settings")


def _migrations_pending() -> bool:
    """True unless every migration file on disk is recorded as applied.

    Reading file names and one table is far cheaper than loading the migration
    graph (which imports every migration module) on each start.
    """
    # This module runs before Django is set up (see _prepare), so Django is imported where it is used.
    from django.apps import apps
    from django.db import connection
    from django.db.utils import DatabaseError

    on_disk: set[tuple[str, str]] = set()
    for config in apps.get_app_configs():
        folder = Path(config.path) / "migrations"
        if folder.is_dir():
            on_disk.update((config.label, f.stem) for f in folder.glob("[0-9]*.py"))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            applied = set(cursor.fetchall())
    except DatabaseError:
        return True
    return not on_disk <= applied


def _prepare() -> None:
    # Before django.setup() nothing of the project can be imported; after it, the models can.
    import django
    from django.core.management import call_command

    django.setup()
    if _migrations_pending():
        call_command("migrate", interactive=False, verbosity=1)
    from orgs.models import Org  # only after django.setup() above

    if not Org.objects.exists():
        call_command("bootstrap", template=os.environ.get("MESA_TEMPLATE", "startup"))


class _Scheduler:
    """The scheduler child process, started once the web server accepts connections."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.loop: Any = None  # the in-process Scheduler (MESA_SCHEDULER=thread)
        self.thread: threading.Thread | None = None
        self.companions: list[Any] = []  # the notification threads beside an in-process scheduler

    def start_when_listening(self, host: str, port: int) -> None:
        base = Path(__file__).resolve().parent.parent
        mode = os.environ.get("MESA_SCHEDULER", "thread")
        if mode in {"0", "off"}:
            return
        if not (base / "runners" / "management" / "commands" / "scheduler.py").exists():
            return

        def wait_then_start() -> None:
            # Starting it after the port is open keeps it from competing with the
            # web server for the CPU during start-up.
            while not self.stopping.is_set():
                try:
                    socket.create_connection((host, port), timeout=0.2).close()
                    break
                except OSError:
                    self.stopping.wait(0.02)
            # A moment's grace so that start-up recovery does not compete with the first requests.
            if self.stopping.wait(0.5):
                return
            if mode == "process":
                env = {**os.environ, PARENT_ENV: str(os.getpid())}
                self.proc = subprocess.Popen([sys.executable, str(base / "manage.py"), "scheduler"], cwd=base, env=env)
                return
            # Default: the scheduler runs in this process, sharing one Django (half the memory of
            # two processes). `manage.py scheduler` remains the separate-process / scale-out path.
            # Imported here, not at the top: this module runs before Django is set up (_prepare).
            from orgs.gc_tuning import gc_tune  # like the two imports above
            from runners.companions import companions_start
            from runners.scheduler import Scheduler

            self.loop = Scheduler()
            self.thread = threading.Thread(target=self.loop.run_forever, name="mesa-scheduler", daemon=True)
            self.thread.start()
            self.companions = companions_start()
            gc_tune()  # the scheduler's code is loaded now (a web worker's is tuned by mesa.asgi)

        threading.Thread(target=wait_then_start, name="start-scheduler", daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        for companion in self.companions:
            companion.stop()
        if self.loop is not None and self.thread is not None:
            self.loop.request_stop()  # running runs are cancelled and recorded, nothing left running
            self.thread.join(timeout=30)
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


class _Workers:
    """``count`` daphne worker processes accepting on one listening socket bound here.

    The kernel hands each new connection to one of the workers. A worker that dies is started
    again (after a pause that doubles while it keeps dying within seconds of its start).
    """

    def __init__(self, host: str, port: int, count: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(1024)
        self.sock.set_inheritable(True)
        self.count = count
        self.stopping = threading.Event()
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.lock = threading.Lock()

    def _spawn(self) -> subprocess.Popen[bytes]:
        fd = self.sock.fileno()
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        return subprocess.Popen([sys.executable, "-m", "mesa.serve", "--worker", str(fd)], pass_fds=(fd,), env=env)

    def _keep(self, slot: int) -> None:
        """Run worker ``slot`` until stopping, starting it again whenever it exits."""
        pause = 1.0
        while not self.stopping.is_set():
            with self.lock:
                if self.stopping.is_set():
                    return
                proc = self.procs[slot] = self._spawn()
            started = time.monotonic()
            code = proc.wait()
            if self.stopping.is_set():
                return
            print(f"Mesa web worker {proc.pid} exited ({code}); starting another", file=sys.stderr, flush=True)
            pause = pause * 2 if time.monotonic() - started < 5 else 1.0
            if self.stopping.wait(min(pause, 30.0)):
                return

    def start(self) -> None:
        for slot in range(self.count):
            threading.Thread(target=self._keep, args=(slot,), name=f"mesa-web-{slot}", daemon=True).start()

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            procs = list(self.procs.values())
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.sock.close()


def _wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT (a pipe the handlers write to: no timer, no lost signal)."""
    read_end, write_end = os.pipe()

    def handler(signum: int, frame: Any) -> None:
        os.write(write_end, b"x")

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
    os.read(read_end, 1)


def _without_tls() -> None:
    """Let Twisted load without its TLS support: Mesa serves plain HTTP (TLS ends at a proxy in front).

    Twisted's TCP module imports pyOpenSSL, and with it cryptography's X.509 code, whenever pyOpenSSL is
    installed (daphne's ``twisted[tls]`` installs it): 50 ms and 5 MB of every start for nothing. Marked
    missing before daphne loads, the import fails and Twisted goes on without TLS, as it is written to.
    Nothing else in a web process uses pyOpenSSL (the ``ssl`` module serves outgoing HTTPS).
    """
    sys.modules.setdefault("OpenSSL", None)  # type: ignore[arg-type]


def _worker(fd: int) -> None:
    """One web worker: serve the ASGI app on the inherited listening socket ``fd``."""
    import django  # a worker sets Django up itself, like any process

    die_with_parent()
    _without_tls()
    django.setup()
    # Twisted and the ASGI app load after Django is set up.
    from daphne.server import Server

    from mesa.asgi import application

    Server(
        application=application,
        endpoints=[f"fd:fileno={fd}"],  # an AF_INET socket: Twisted's fd endpoint assumes it
        signal_handlers=True,
        verbosity=0,
    ).run()


def _print_login_link(host: str, port: int) -> None:
    from django.conf import settings  # after django.setup(), like the other app imports here

    if settings.MESA_TRUSTED_LOCAL and settings.MESA_LOCAL_LOGIN:
        from web.local_login import login_link_create  # Django is set up by now (main ran _prepare)

        link = login_link_create(f"http://{host}:{port}")
        print(
            f"Open this link to sign in (it works once; `python manage.py login-link` prints another):\n  {link}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--worker"]:
        _worker(int(args[1]))
        return
    # Settings, daphne (Twisted) and the ASGI app load only once _prepare() has set Django up.
    from django.conf import settings
    from django.db import connections

    _prepare()
    host, port, workers = settings.HOST, settings.PORT, settings.MESA_WEB_WORKERS
    # Twisted adopts an inherited socket as IPv4 only: on an IPv6 address daphne binds by itself.
    if workers > 1 and ":" not in host:
        connections.close_all()  # the workers open their own
        try:
            pool = _Workers(host, port, workers)
        except OSError as exc:
            raise SystemExit(f"Mesa cannot listen on {host}:{port}: {exc.strerror}") from exc
        scheduler = _Scheduler()
        scheduler.start_when_listening(host, port)
        pool.start()
        print(f"Mesa is serving on http://{host}:{port}/ ({workers} web workers)", flush=True)
        _print_login_link(host, port)
        try:
            _wait_for_stop_signal()
        finally:
            pool.stop()
            scheduler.stop()
        return

    _without_tls()
    # Twisted and the ASGI app load after Django is set up and migrated.
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server

    from mesa.asgi import application

    scheduler = _Scheduler()
    scheduler.start_when_listening(host, port)
    print(f"Mesa is serving on http://{host}:{port}/", flush=True)
    _print_login_link(host, port)
    try:
        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
            verbosity=0,
        ).run()
    finally:
        scheduler.stop()


if __name__ == "__main__":
    main()
