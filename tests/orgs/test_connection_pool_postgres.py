"""On PostgreSQL, a process's threads share a bounded pool of connections (mesa/env.py)."""

from __future__ import annotations

from tests.orgs.postgres import pg_database, run_mesa_script

# Twelve threads query at once, each holding its connection for a moment, while a separate
# connection (outside Django) counts the server's connections to the database.
SCRIPT = """
import json, sys, threading, time
import psycopg
from django.db import connection
url = sys.argv[1]
name = url.rsplit("/", 1)[1]
peak, stop, errors, done = [0], threading.Event(), [], []
def watch():
    with psycopg.connect(url, autocommit=True) as mon:
        while not stop.is_set():
            n = mon.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name]
            ).fetchone()[0]
            peak[0] = max(peak[0], n)
            time.sleep(0.01)
start = threading.Barrier(12)
def work():
    try:
        start.wait()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.3)")
        done.append(1)
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()  # back to the pool, as at the end of a request
watcher = threading.Thread(target=watch)
watcher.start()
threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads: t.start()
for t in threads: t.join()
stop.set(); watcher.join()
print(json.dumps({"done": len(done), "errors": errors, "peak": peak[0]}))
"""


def test_it_shares_a_bounded_pool_of_connections_between_threads() -> None:
    with pg_database() as url:
        pooled = run_mesa_script(url, SCRIPT, url, MESA_DB_POOL_SIZE="3")
        assert pooled["errors"] == [] and pooled["done"] == 12
        assert 1 <= pooled["peak"] <= 3  # twelve threads, never more than three connections
        # Without the pool every thread opens its own: the measure sees it.
        unpooled = run_mesa_script(url, SCRIPT, url, MESA_DB_POOL_SIZE="0")
        assert unpooled["errors"] == [] and unpooled["done"] == 12
        assert unpooled["peak"] > 3
