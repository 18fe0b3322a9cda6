"""Configuration from the environment: DATABASE_URL parsing and the SQLite connection mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from mesa.env import database_config, env_bool, env_int, secret_key

BASE = Path("/srv/mesa")


def test_it_defaults_to_mesa_db_in_the_repo_root() -> None:
    config = database_config("", BASE)
    assert config["ENGINE"] == "mesa.backends.sqlite3"  # Django's, writers queued in-process
    assert config["NAME"] == "/srv/mesa/mesa.db"


def test_it_resolves_a_relative_sqlite_path_against_the_repo() -> None:
    assert database_config("sqlite:///data/app.db", BASE)["NAME"] == "/srv/mesa/data/app.db"


def test_it_keeps_an_absolute_sqlite_path() -> None:
    assert database_config("sqlite:////var/lib/mesa/app.db", BASE)["NAME"] == "/var/lib/mesa/app.db"


def test_it_configures_sqlite_for_concurrent_writers() -> None:
    options = database_config("sqlite:///x.db", BASE)["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]
    assert "busy_timeout" in options["init_command"]


def test_it_parses_a_postgres_url_with_options() -> None:
    config = database_config(
        "postgres://mesa:p%40ss%2Fword@db.example:5433/mesa_prod?sslmode=require&connect_timeout=5", BASE
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "mesa_prod"
    assert config["USER"] == "mesa"
    assert config["PASSWORD"] == "p@ss/word"
    assert config["HOST"] == "db.example"
    assert config["PORT"] == "5433"
    assert config["OPTIONS"] == {
        "sslmode": "require",
        "connect_timeout": "5",
        "pool": {"min_size": 1, "max_size": 20, "timeout": 20.0},  # one pool per process (MESA_DB_POOL_SIZE)
    }
    assert config["CONN_MAX_AGE"] == 0  # a pooled connection goes back to the pool after each request


@pytest.mark.parametrize("scheme", ["postgresql", "pgsql", "POSTGRES"])
def test_it_accepts_postgres_scheme_aliases(scheme: str) -> None:
    config = database_config(f"{scheme}://postgres@127.0.0.1/mesa", BASE)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == ("postgres", "", "127.0.0.1", "")


def test_it_refuses_an_unsupported_scheme() -> None:
    with pytest.raises(ValueError, match="mysql"):
        database_config("mysql://root@localhost/mesa", BASE)


def test_it_reads_typed_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESA_T_INT", " 42 ")
    monkeypatch.setenv("MESA_T_BOOL", "Yes")
    monkeypatch.setenv("MESA_T_EMPTY", "  ")
    assert env_int("MESA_T_INT", 1) == 42
    assert env_int("MESA_T_EMPTY", 7) == 7
    assert env_bool("MESA_T_BOOL") is True
    assert env_bool("MESA_T_EMPTY", True) is True


def test_it_persists_a_generated_secret_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("MESA_SECRET_KEY_FILE", str(tmp_path / "key"))
    first = secret_key(tmp_path)
    assert len(first) >= 40
    assert secret_key(tmp_path) == first
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert secret_key(tmp_path) == "from-env"


def test_it_runs_sqlite_in_wal_mode_with_a_busy_timeout(db: None) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite connection mode only applies to SQLite")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert connection.settings_dict["NAME"] != ":memory:"
