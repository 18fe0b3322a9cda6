"""`make run`: migrate, bootstrap on an empty database, then serve HTTP and run the scheduler.

One Django start-up does the checks (saving the ~0.5 s a separate ``manage.py``
call costs), daphne serves in this process, and the scheduler runs in a thread of
the same process once the port is open (``MESA_SCHEDULER=process`` runs it as a
child process instead, ``off`` not at all); both stop together.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

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
                env = {**os.environ, "MESA_DIE_WITH_PARENT": str(os.getpid())}
                self.proc = subprocess.Popen([sys.executable, str(base / "manage.py"), "scheduler"], cwd=base, env=env)
                return
            # Default: the scheduler runs in this process, sharing one Django (half the memory of
            # two processes). `manage.py scheduler` remains the separate-process / scale-out path.
            # Imported here, not at the top: this module runs before Django is set up (_prepare).
            from runners.companions import companions_start
            from runners.scheduler import Scheduler

            self.loop = Scheduler()
            self.thread = threading.Thread(target=self.loop.run_forever, name="mesa-scheduler", daemon=True)
            self.thread.start()
            self.companions = companions_start()

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


def main() -> None:
    # Settings, daphne (Twisted) and the ASGI app load only once _prepare() has set Django up.
    from django.conf import settings

    _prepare()
    # Twisted and the ASGI app load after Django is set up and migrated.
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server

    from mesa.asgi import application

    host, port = settings.HOST, settings.PORT
    scheduler = _Scheduler()
    scheduler.start_when_listening(host, port)
    print(f"Mesa is serving on http://{host}:{port}/", flush=True)
    if settings.MESA_TRUSTED_LOCAL and settings.MESA_LOCAL_LOGIN:
        from web.local_login import login_link_create  # after django.setup(), like the other app imports here

        link = login_link_create(f"http://{host}:{port}")
        print(
            f"Open this link to sign in (it works once; `python manage.py login-link` prints another):\n  {link}",
            flush=True,
        )
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
