"""The deployment picture in ``docker/compose.yaml`` is valid YAML and consistent with the
configuration the code reads (no Docker engine runs here: the file is documentation).
"""

from __future__ import annotations

import re

import yaml

from settings import variables

from ..conftest import ROOT

COMPOSE = ROOT / "docker" / "compose.yaml"
NGINX = ROOT / "docker" / "nginx.conf"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def documented_variables() -> set[str]:
    """Variable names in the README's configuration table (first column)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))


def read_variables() -> set[str]:
    """Every environment variable the project reads: the fields of the settings object."""
    return set(variables())


def test_the_topology_has_every_part_with_a_health_check():
    services = compose()["services"]
    assert set(services) == {
        "opensearch1", "opensearch2", "opensearch3", "db", "redis",
        "setup", "indexer", "portal1", "portal2", "proxy",
    }  # fmt: skip
    for name, service in services.items():
        if name != "setup":  # a one-off job: the others wait for it to complete
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for portal in ("portal1", "portal2"):
        assert services["proxy"]["depends_on"][portal] == {"condition": "service_healthy"}
    upstream = re.search(r"upstream portals \{(.*?)\}", NGINX.read_text(), flags=re.S).group(1)
    assert re.findall(r"server (\w+):8000", upstream) == ["portal1", "portal2"]


def test_every_application_variable_is_one_the_code_reads_and_the_readme_documents():
    services = compose()["services"]
    known = read_variables()
    documented = documented_variables()
    for name in ("setup", "indexer", "portal1", "portal2"):
        variables = set(services[name]["environment"])
        assert variables <= known, (name, variables - known)
        assert variables <= documented, (name, variables - documented)
    assert {"RATELIMIT_STORAGE_URI", "WEB_CONCURRENCY", "SECRET_KEY"} <= set(
        services["portal1"]["environment"]
    )


def test_the_cluster_is_three_nodes_with_a_replica_and_the_apps_know_all_of_them():
    services = compose()["services"]
    nodes = [f"opensearch{n}" for n in (1, 2, 3)]
    for node in nodes:
        env = services[node]["environment"]
        assert env["node.name"] == node
        assert env["discovery.seed_hosts"].split(",") == nodes
        assert "single-node" not in str(env)
    for name in ("setup", "indexer", "portal1", "portal2"):
        env = services[name]["environment"]
        assert env["OPENSEARCH_URL"].split(",") == [f"http://{n}:9200" for n in nodes]
        assert env["INDEX_REPLICAS"] == "1"
    assert services["portal1"]["environment"]["RATELIMIT_STORAGE_URI"].startswith("redis://redis:")
