"""docker/compose.yaml: Mesa + Postgres + Redis, wired together, with keys both docker and podman compose know.

No registry is reachable here, so `compose up` itself (the postgres and redis images) is not run; the file is
read as compose reads it and each wire is checked against what Mesa really reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mesa.env import database_config
from tests.docker.conftest import REPO

COMPOSE = REPO / "docker" / "compose.yaml"
# Keys of the compose specification that docker compose and podman-compose both implement.
PORTABLE_TOP = {"name", "services", "volumes"}
PORTABLE_SERVICE = {"build", "image", "environment", "ports", "volumes", "depends_on", "restart", "command"}


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def test_it_names_mesa_postgres_and_redis_with_portable_keys_only() -> None:
    data = _compose()
    assert set(data) <= PORTABLE_TOP
    services = data["services"]
    assert set(services) == {"mesa", "postgres", "redis"}
    for name, service in services.items():
        assert set(service) <= PORTABLE_SERVICE, (name, set(service) - PORTABLE_SERVICE)
    assert set(services["mesa"]["depends_on"]) == {"postgres", "redis"}
    # Fully qualified images: podman has no default registry to expand a short name against.
    assert all(services[s]["image"].startswith("docker.io/library/") for s in ("postgres", "redis"))


def test_it_builds_mesa_from_the_repository_with_docker_dockerfile() -> None:
    build = _compose()["services"]["mesa"]["build"]
    context = (COMPOSE.parent / build["context"]).resolve()
    assert context == REPO
    assert (context / build["dockerfile"]) == REPO / "docker" / "Dockerfile"


def test_it_points_mesa_at_the_postgres_service_with_its_credentials() -> None:
    services = _compose()["services"]
    db = database_config(services["mesa"]["environment"]["DATABASE_URL"], REPO)
    pg = services["postgres"]["environment"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"]) == ("postgres", "5432")
    assert (db["USER"], db["PASSWORD"], db["NAME"]) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])


def test_it_passes_mesa_only_variables_it_reads() -> None:
    read = "".join(p.read_text() for p in (REPO / "mesa" / "settings.py", REPO / "mesa" / "env.py"))
    for name in _compose()["services"]["mesa"]["environment"]:
        assert re.search(rf'"{name}"', read), f"{name} is not read by mesa/settings.py"


def test_it_publishes_the_port_mesa_serves_on_and_keeps_its_state_in_a_volume() -> None:
    mesa = _compose()["services"]["mesa"]
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    assert "PORT=3001" in dockerfile and "MESA_HOST=0.0.0.0" in dockerfile
    assert [p.rsplit(":", 1)[1] for p in mesa["ports"]] == ["3001"]
    # The Dockerfile puts the database file and both keys under /app/var: that is the volume.
    assert "mesa-data:/app/var" in mesa["volumes"] and "mesa-data" in _compose()["volumes"]
    for line in (
        "DATABASE_URL=sqlite:////app/var/",
        "MESA_SECRET_KEY_FILE=/app/var/",
        "MESA_SECRETS_KEY_FILE=/app/var/",
    ):
        assert line in dockerfile


def test_it_keeps_secrets_and_local_state_out_of_the_build_context() -> None:
    ignored = set(Path(REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".tools", "var", "mesa.db*", ".mesa-secret-key", ".mesa-secrets-key"} <= ignored
