"""The worker spec file (manage.py worker add): TOML and JSON, and a clear message for each mistake."""

from __future__ import annotations

import json

import pytest

from orgs.errors import InvalidInput
from runners.workers import worker_file_parse


@pytest.mark.parametrize(
    ("filename", "text", "message"),
    [
        ("w.toml", "name = ", "w.toml: not valid TOML"),
        ("w.json", "{", "w.json: not valid JSON"),
        ("w.ini", "", "w.ini: unknown format '.ini'; use .toml or .json"),
        ("w.toml", 'org = "acme"\nagent = "dev"', "w.toml: `name` is required (a slug)"),
        ("w.toml", 'name = "W!"\norg = "acme"\nagent = "dev"', "`name` must be a lowercase slug, got 'W!'"),
        ("w.toml", 'name = "w"\norg = "acme"\nagent = "dev"\nmounts = ["/"]', "`mounts` cannot be set"),
        ("w.toml", 'name = "w"\norg = "acme"\nagent = "dev"\ncolour = 1', "unknown key(s) colour"),
        ("w.toml", 'name = "w"\norg = "a"\nagent = "d"\n[limits]\ncpus = 0', "`limits.cpus` must be a number above 0"),
        ("w.toml", 'name = "w"\norg = "a"\nagent = "d"\n[limits]\nmemory = "lots"', "`limits.memory` must look like"),
        ("w.toml", 'name = "w"\norg = "a"\nagent = "d"\n[limits]\nswap = 1', "unknown limit(s) swap"),
        ("w.json", '{"name": "w", "org": "a", "agent": "d", "env": {"K": "sk-live abc"}}', "must name a secret"),
        ("w.json", '{"name": "w", "org": "a", "agent": "d", "credential_sets": ["ssh"]}', "`credential_sets` must"),
        ("w.json", "[1, 2]", "expected a table of keys"),
    ],
)
def test_it_explains_what_is_wrong_with_a_worker_file(filename: str, text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        worker_file_parse(text, filename=filename)
    assert message in caught.value.message


def test_it_reads_a_worker_file_in_toml_and_json() -> None:
    text = 'name = "w"\norg = "acme"\nagent = "dev"\ncredential_sets = ["claude"]\n[env]\nKEY = "other.SECRET"\n'
    spec = worker_file_parse(text, filename="w.toml")
    assert (spec.name, spec.cpus, spec.memory, spec.pids) == ("w", 1.0, "2g", 256)
    assert spec.env_refs == {"KEY": "other.SECRET"} and spec.credential_sets == ["claude"]
    same = worker_file_parse(json.dumps({"name": "w", "org": "acme", "agent": "dev"}), filename="w.JSON")
    assert same.agent == "dev"


def test_it_reads_a_worker_file_in_yaml_like_toml() -> None:
    """``manage.py worker add FILE.yaml``: PyYAML comes with drf-spectacular, a dependency of Mesa."""
    toml = (
        'name = "w"\norg = "acme"\nagent = "dev"\ncredential_sets = ["claude"]\n[limits]\npids = 64\n[env]\nK = "S"\n'
    )
    yaml = "name: w\norg: acme\nagent: dev\ncredential_sets: [claude]\nlimits:\n  pids: 64\nenv:\n  K: S\n"
    assert worker_file_parse(yaml, filename="w.yaml") == worker_file_parse(toml, filename="w.toml")
    with pytest.raises(InvalidInput) as caught:
        worker_file_parse("name: [", filename="w.yml")
    assert "w.yml: not valid YAML" in caught.value.message
