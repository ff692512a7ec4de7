"""infra/compose.yaml: valid against the Compose Specification, and hardened as promised."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from tests.infra import checks

CORRIDOR_SERVICES = {
    "cn-node", "hk-node", "th-node", "ae-node", "sa-node",
    "bridge", "vouchers", "supervision", "stablecoin",
}  # fmt: skip


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    assert checks.compose_schema_problems(compose) == []


def test_compose_follows_corridor_rules(compose: dict[str, Any]) -> None:
    assert checks.compose_problems(compose) == []


def test_compose_runs_the_whole_topology(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert CORRIDOR_SERVICES | {"postgres"} <= set(services)
    assert {"locust-master", "locust-worker", "otel-collector", "jaeger"} <= set(services)
    for name in CORRIDOR_SERVICES | {"locust-master", "locust-worker"}:
        assert services[name]["image"] == checks.CORRIDOR_IMAGE, name


def test_optional_parts_are_opt_in_profiles(compose: dict[str, Any]) -> None:
    profiles = {name: service.get("profiles", []) for name, service in compose["services"].items()}
    assert profiles["otel-collector"] == ["observability"]
    assert profiles["jaeger"] == ["observability"]
    assert profiles["locust-master"] == ["loadtest"]
    assert profiles["locust-worker"] == ["loadtest"]
    for name in CORRIDOR_SERVICES | {"postgres"}:
        assert profiles[name] == [], f"{name} must start without any profile"


def test_locust_workers_find_their_master(compose: dict[str, Any]) -> None:
    worker = compose["services"]["locust-worker"]
    argv = checks.compose_argv(worker, [])
    assert argv[:1] == ["locust"] and "--worker" in argv
    assert argv[argv.index("--master-host") + 1] == "locust-master"
    assert worker["deploy"]["replicas"] >= 1
    master_argv = checks.compose_argv(compose["services"]["locust-master"], [])
    assert "--master" in master_argv
    assert master_argv[master_argv.index("-f") + 1] == argv[argv.index("-f") + 1]


def test_init_sql_creates_every_ledger_database() -> None:
    sql = (checks.INFRA_DIR / "postgres" / "init-databases.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+);", sql))
    ledgers = ["cn", "hk", "th", "ae", "sa", "bridge", "vouchers", "supervision"]
    try:
        from corridor.pg import database_name
    except ImportError:  # the naming rule, as corridor/pg.py states it

        def database_name(ledger: str) -> str:
            return f"corridor_{ledger}"

    assert created == {database_name(ledger) for ledger in ledgers}


def test_every_service_uses_the_compose_database_server(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres_user = services["postgres"]["environment"]["POSTGRES_USER"]
    for name in CORRIDOR_SERVICES:
        url = urlparse(checks.compose_environment(services[name])["CORRIDOR_DATABASE_URL"])
        assert (url.hostname, url.port, url.username) == ("postgres", 5432, postgres_user), name
        assert "postgres" in services[name]["depends_on"], name
    # Load generators talk gRPC only; they get no database credentials.
    for name in ("locust-master", "locust-worker"):
        assert "CORRIDOR_DATABASE_URL" not in checks.compose_environment(services[name])
