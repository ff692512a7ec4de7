"""One topology, described three times: compose, Kubernetes and docs/LAYOUT.md must agree.

The same processes run as `corridor up` on a laptop, under compose and on Kubernetes. A
port, a command line or an environment variable that differs between the files is a
service that works in one place and not the next, so each is compared here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra import checks

# Flags only the Kubernetes side needs: there the worker HPA adds Locust workers mid-test,
# and without rebalancing they would idle until the next run.
KUBERNETES_ONLY_FLAGS = {"locust-master": {"--enable-rebalancing"}}
# PGDATA points initdb below the volume root, which on Kubernetes may hold lost+found.
KUBERNETES_ONLY_ENV = {"postgres": {"PGDATA"}}
# compose makes the certificates in a one-shot job; on Kubernetes they are Secrets made once
# outside the cluster (infra/security_secrets.py), because an in-cluster job would need the
# API access every pod here is denied.
COMPOSE_ONLY = {"certs"}


def _both(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The compose services that also run on Kubernetes."""
    return {n: s for n, s in compose["services"].items() if n not in COMPOSE_ONLY}


def _kubernetes_container(build: checks.KubernetesBuild, name: str) -> dict[str, Any]:
    workload = build.workloads()[name]
    containers = checks.pod_spec(workload)["containers"]
    assert len(containers) == 1, f"{name}: one container per pod expected"
    return containers[0]


@pytest.fixture(scope="module")
def full_build(overlay_builds: dict[str, checks.KubernetesBuild]) -> checks.KubernetesBuild:
    """The loadtest overlay holds base + observability + Locust: everything compose runs."""
    return overlay_builds["loadtest"]


def test_every_compose_service_runs_on_kubernetes(
    compose: dict[str, Any],
    full_build: checks.KubernetesBuild,
    overlay_builds: dict[str, checks.KubernetesBuild],
) -> None:
    assert set(compose["services"]) - COMPOSE_ONLY <= set(full_build.workloads())
    assert COMPOSE_ONLY <= set(compose["services"]), "a stale exemption"
    assert not COMPOSE_ONLY & set(full_build.workloads()), "runs on both: compare it"
    always_on = {name for name, s in _both(compose).items() if not s.get("profiles")}
    assert always_on <= set(overlay_builds["local"].workloads()), "default services are base"


def test_images_agree(compose: dict[str, Any], full_build: checks.KubernetesBuild) -> None:
    for name, service in _both(compose).items():
        assert _kubernetes_container(full_build, name)["image"] == service["image"], name


def test_command_lines_agree(
    compose: dict[str, Any], full_build: checks.KubernetesBuild, image_entrypoint: list[str]
) -> None:
    for name, service in _both(compose).items():
        if name == "otel-collector":
            continue  # the config file is mounted at a different path on each side
        compose_argv = checks.compose_argv(service, image_entrypoint)
        container = _kubernetes_container(full_build, name)
        kubernetes_argv = [
            part
            for part in checks.container_argv(container, image_entrypoint)
            if part not in KUBERNETES_ONLY_FLAGS.get(name, set())
        ]
        assert kubernetes_argv == compose_argv, name


def test_ports_agree(compose: dict[str, Any], full_build: checks.KubernetesBuild) -> None:
    for name, service in _both(compose).items():
        container_ports = {
            port["containerPort"]
            for port in _kubernetes_container(full_build, name).get("ports", [])
        }
        service_ports = {
            port["port"]
            for port in full_build.by_kind["Service"].get(name, {}).get("spec", {}).get("ports", [])
        }
        for entry in service.get("ports", []):
            published = checks.parse_compose_port(entry)
            assert published.container_port in container_ports, (name, entry)
            assert published.container_port in service_ports, (name, entry)
            assert published.host_port == published.container_port, (name, entry)


def test_environment_agrees(compose: dict[str, Any], full_build: checks.KubernetesBuild) -> None:
    for name, service in _both(compose).items():
        compose_env = checks.compose_environment(service)
        kubernetes_env = checks.container_env(_kubernetes_container(full_build, name), full_build)
        extra = KUBERNETES_ONLY_ENV.get(name, set())
        assert set(kubernetes_env) - extra == set(compose_env), name
        for key, value in compose_env.items():
            # Topology, database URLs and service names must be identical; OTEL_SDK_DISABLED
            # is a compose-time default (${...:-true}) and the password comes from a Secret.
            if key.startswith("CORRIDOR_") or key == "OTEL_SERVICE_NAME":
                assert kubernetes_env[key] == value, (name, key)


def test_nodes_list_matches_the_node_services(
    compose: dict[str, Any], full_build: checks.KubernetesBuild, image_entrypoint: list[str]
) -> None:
    nodes_value = compose["x-topology-env"]["CORRIDOR_NODES"]
    entries = dict(item.split("=", 1) for item in nodes_value.split(","))
    assert list(entries) == ["CN", "HK", "TH", "AE", "SA"]
    for code, address in entries.items():
        host, port = address.rsplit(":", 1)
        argv = checks.compose_argv(compose["services"][host], image_entrypoint)
        assert argv[argv.index("--jurisdiction") + 1] == code
        assert checks.bind_port(argv) == int(port)
        service_ports = [p["port"] for p in full_build.by_kind["Service"][host]["spec"]["ports"]]
        assert service_ports == [int(port)]


def test_service_addresses_resolve(compose: dict[str, Any]) -> None:
    topology = compose["x-topology-env"]
    targets = [key for key in topology if key.endswith("_TARGET")]
    assert len(targets) == 9, targets
    for key in targets:
        host, port = topology[key].rsplit(":", 1)
        argv = checks.compose_argv(compose["services"][host], checks.dockerfile_entrypoint())
        assert checks.bind_port(argv) == int(port), key


def test_ports_match_the_documented_layout(
    compose: dict[str, Any], image_entrypoint: list[str]
) -> None:
    layout = (checks.REPO_ROOT / "docs" / "LAYOUT.md").read_text()
    documented = {name: int(port) for name, port in re.findall(r"(\w+) (5\d{4})", layout)}
    assert len(documented) == 9, documented
    names = {
        "CN": "cn-node", "HK": "hk-node", "TH": "th-node", "AE": "ae-node", "SA": "sa-node",
        "bridge": "bridge", "vouchers": "vouchers", "supervision": "supervision",
        "stablecoin": "stablecoin",
    }  # fmt: skip
    for documented_name, port in documented.items():
        argv = checks.compose_argv(compose["services"][names[documented_name]], image_entrypoint)
        assert checks.bind_port(argv) == port, documented_name


def _corridor_commands(
    compose: dict[str, Any], image_entrypoint: list[str]
) -> dict[tuple[str, ...], set[str]]:
    """Each `corridor` subcommand the files run (words before the first option), with the
    options they pass it: {("stablecoin", "serve"): {"--bind"}, ...}."""
    commands: dict[tuple[str, ...], set[str]] = {}
    for service in compose["services"].values():
        argv = checks.compose_argv(service, image_entrypoint)
        if argv[:1] != ["corridor"]:
            continue
        words: list[str] = []
        for word in argv[1:]:
            if word.startswith("-"):
                break
            words.append(word)
        commands.setdefault(tuple(words), set()).update(w for w in argv if w.startswith("--"))
    return commands


def test_cli_offers_every_command_the_files_run(
    compose: dict[str, Any], image_entrypoint: list[str]
) -> None:
    """`corridor <command> --help` answers, listing each option the files pass it.

    Commands whose service is not in this checkout yet are reported as a skip, not a pass.
    """
    cli = pytest.importorskip("corridor.cli")
    if not hasattr(cli, "app"):
        pytest.skip("corridor.cli has no typer `app` to ask")
    from typer.testing import CliRunner

    commands = _corridor_commands(compose, image_entrypoint)
    # The sweep engine's cluster (k8s/components/dask) is reached this way (infra/README.md).
    commands[("sweep",)] = {"--address"}
    assert ("node",) in commands and ("stablecoin", "serve") in commands
    runner = CliRunner()
    missing: list[str] = []
    for command, options in sorted(commands.items()):
        result = runner.invoke(cli.app, [*command, "--help"], env={"COLUMNS": "200"})
        if result.exit_code != 0 and "No such command" in result.output:
            missing.append(" ".join(command))
            continue
        assert result.exit_code == 0, (command, result.output[-2000:])
        for option in options:
            assert option in result.output, (command, option)
    if missing:
        pytest.skip(f"not in this checkout yet: corridor {', corridor '.join(missing)}")


def test_same_topology_as_the_local_fleet(
    compose: dict[str, Any],
    image_entrypoint: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`corridor up` runs these processes on 127.0.0.1: same commands, ports and variables.

    The fleet hands every process the same variables (`Fleet.env()`) and each service its own
    (`corridor.security.fleet.service_env`): CORRIDOR_SERVICE_IDENTITY and a freshly minted
    CORRIDOR_CREDENTIAL. A container gets the identity the same way; the credential, which
    a static file cannot carry as a value, it reads from its security directory instead
    (test_containers_read_the_credential_the_fleet_hands_its_processes)."""
    fleet_module = pytest.importorskip("corridor.fleet")
    security_fleet = pytest.importorskip("corridor.security.fleet")
    config = pytest.importorskip("corridor.config")
    for key in [key for key in os.environ if key.startswith("CORRIDOR_")]:
        monkeypatch.delenv(key)
    # The fleet mints credentials: keep its keys out of the checkout's .corridor.
    monkeypatch.setenv("CORRIDOR_SECURITY_DIR", str(tmp_path / "security"))
    names = list(config.SERVICE_PORTS)
    fleet = fleet_module.Fleet.plan(tmp_path, "postgresql://fleet", names)
    assert fleet.security.tls and fleet.security.auth, "security is the default"
    fleet_env = {k: v for k, v in fleet.env().items() if k.startswith("CORRIDOR_")}
    compose_services = {
        name: f"{name}-node" if name.upper() in config.JURISDICTIONS else name for name in names
    }
    for name, compose_name in compose_services.items():
        service = compose["services"][compose_name]
        compose_env = checks.compose_environment(service)
        own = security_fleet.service_env(fleet, name)
        assert "CORRIDOR_CREDENTIAL" in own, name
        expected = set(fleet_env) | (set(own) - {"CORRIDOR_CREDENTIAL"})
        assert expected == {k for k in compose_env if k.startswith("CORRIDOR_")}, name
        assert compose_env["CORRIDOR_SERVICE_IDENTITY"] == own["CORRIDOR_SERVICE_IDENTITY"], name
        for key in ("CORRIDOR_SECURE", "CORRIDOR_INSECURE"):
            assert compose_env[key] == fleet_env[key], (name, key)
        # The same command line, bound to all interfaces instead of loopback.
        fleet_argv = fleet_module.service_argv(name, config.SERVICE_PORTS[name])
        fleet_command = fleet_argv[fleet_argv.index("-c") + 2 :]
        compose_command = checks.compose_argv(service, image_entrypoint)[1:]
        assert [part.replace("0.0.0.0:", "127.0.0.1:") for part in compose_command] == (
            fleet_command
        ), name
    topology = compose["x-topology-env"]
    for key, fleet_value in fleet_env.items():
        if key.endswith("_TARGET"):
            assert topology[key].rsplit(":", 1)[1] == fleet_value.rsplit(":", 1)[1], key
    fleet_nodes = dict(item.split("=") for item in fleet_env["CORRIDOR_NODES"].split(","))
    compose_nodes = dict(item.split("=") for item in topology["CORRIDOR_NODES"].split(","))
    assert {k: v.rsplit(":", 1)[1] for k, v in fleet_nodes.items()} == {
        k: v.rsplit(":", 1)[1] for k, v in compose_nodes.items()
    }


def test_containers_read_the_credential_the_fleet_hands_its_processes(
    compose: dict[str, Any],
    certs_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What CORRIDOR_CREDENTIAL is to a fleet process, credentials/<identity>.jwt (from
    `corridor certs --service-credentials`, compose's `certs` job) is to a container: the
    same role, subject, jurisdiction and wallets, found through the container's variables."""
    fleet_module = pytest.importorskip("corridor.fleet")
    security_fleet = pytest.importorskip("corridor.security.fleet")
    from corridor.security.config import SecurityConfig
    from corridor.security.credentials import CredentialVerifier, process_credential

    for key in [key for key in os.environ if key.startswith("CORRIDOR_")]:
        monkeypatch.delenv(key)
    names = [checks.compose_environment(s).get("CORRIDOR_SERVICE_IDENTITY") for s in
             compose["services"].values()]  # fmt: skip
    identities = sorted(name for name in names if name)
    assert len(identities) == 9, identities
    fleet = fleet_module.Fleet.plan(tmp_path, "postgresql://fleet", identities)
    fleet.security = SecurityConfig.of_mode("1", certs_dir)
    verifier = CredentialVerifier(certs_dir)
    for identity in identities:
        from_fleet = verifier.verify(
            security_fleet.service_env(fleet, identity)["CORRIDOR_CREDENTIAL"]
        )
        monkeypatch.setenv("CORRIDOR_SECURITY_DIR", str(certs_dir))
        monkeypatch.setenv("CORRIDOR_SERVICE_IDENTITY", identity)
        token = process_credential()
        assert token, f"{identity}: no credentials/{identity}.jwt for the container to read"
        from_file = verifier.verify(token)
        assert (from_file.role, from_file.subject, from_file.jurisdiction, from_file.wallets) == (
            from_fleet.role, from_fleet.subject, from_fleet.jurisdiction, from_fleet.wallets,
        ), identity  # fmt: skip


def test_locustfile_the_files_name_exists(compose: dict[str, Any]) -> None:
    argv = checks.compose_argv(compose["services"]["locust-master"], [])
    locustfile = checks.REPO_ROOT / argv[argv.index("-f") + 1]
    if not locustfile.exists():
        pytest.skip(f"{locustfile.relative_to(checks.REPO_ROOT)} is not written yet")
    assert locustfile.is_file()
