"""`make run`: migrate, bootstrap on an empty database, then serve HTTP and run the scheduler.

One Django start-up does the checks (saving the ~0.5 s a separate ``manage.py``
call costs), daphne serves in this process, and the scheduler runs as a child
process that is stopped together with the server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesa.settings")


def _prepare() -> None:
    import django
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    django.setup()
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=1)
    from orgs.models import Org

    if not Org.objects.exists():
        call_command("bootstrap", template=os.environ.get("MESA_TEMPLATE", "startup"))


def _start_scheduler() -> subprocess.Popen[bytes] | None:
    base = Path(__file__).resolve().parent.parent
    if os.environ.get("MESA_SCHEDULER", "1") == "0":
        return None
    if not (base / "runners" / "management" / "commands" / "scheduler.py").exists():
        return None
    return subprocess.Popen([sys.executable, str(base / "manage.py"), "scheduler"], cwd=base)


def main() -> None:
    from django.conf import settings

    _prepare()
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server

    from mesa.asgi import application

    host, port = settings.HOST, settings.PORT
    scheduler = _start_scheduler()
    print(f"Mesa is serving on http://{host}:{port}/", flush=True)
    try:
        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
            verbosity=0,
        ).run()
    finally:
        if scheduler is not None and scheduler.poll() is None:
            scheduler.send_signal(signal.SIGTERM)
            try:
                scheduler.wait(timeout=15)
            except subprocess.TimeoutExpired:
                scheduler.kill()


if __name__ == "__main__":
    main()
