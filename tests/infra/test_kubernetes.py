"""infra/k8s: every overlay builds with the real kustomize and validates against Kubernetes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra import checks

CORRIDOR_WORKLOADS = {
    "cn-node", "hk-node", "th-node", "ae-node", "sa-node",
    "bridge", "vouchers", "supervision", "stablecoin",
}  # fmt: skip


def _latest_kubernetes_version() -> str:
    utils = pytest.importorskip("kubernetes_validate.utils", reason="kubernetes-validate missing")
    return str(utils.latest_version())


@pytest.mark.parametrize("overlay", checks.OVERLAYS)
def test_overlay_builds(overlay: str, overlay_builds: dict[str, checks.KubernetesBuild]) -> None:
    assert overlay_builds[overlay].manifests, f"overlay {overlay} built nothing"


@pytest.mark.parametrize("overlay", checks.OVERLAYS)
@pytest.mark.parametrize("version", [checks.KUBERNETES_VERSION_MIN, "latest"])
def test_manifests_match_the_kubernetes_schema(
    overlay: str, version: str, overlay_builds: dict[str, checks.KubernetesBuild]
) -> None:
    resolved = _latest_kubernetes_version() if version == "latest" else version
    problems = [
        problem
        for manifest in overlay_builds[overlay].manifests
        for problem in checks.kubernetes_schema_problems(manifest, resolved)
    ]
    assert problems == []


@pytest.mark.parametrize("overlay", checks.OVERLAYS)
def test_manifests_follow_corridor_rules(
    overlay: str,
    overlay_builds: dict[str, checks.KubernetesBuild],
    image_entrypoint: list[str],
) -> None:
    build = overlay_builds[overlay]
    assert checks.workload_problems(build, image_entrypoint) == []
    assert checks.single_instance_problems(build, image_entrypoint) == []


def test_base_runs_every_service_and_the_database(
    overlay_builds: dict[str, checks.KubernetesBuild],
) -> None:
    build = overlay_builds["local"]
    assert set(build.by_kind["Deployment"]) == CORRIDOR_WORKLOADS
    assert set(build.by_kind["StatefulSet"]) == {"postgres"}
    assert set(build.by_kind["Service"]) == CORRIDOR_WORKLOADS | {"postgres"}
    # No Corridor server is stateless (each owns a single-writer ledger, a feed cursor or a
    # simulated chain), so the base autoscales nothing; Locust and Dask workers do.
    assert "HorizontalPodAutoscaler" not in build.by_kind


def test_nodes_are_single_writers(overlay_builds: dict[str, checks.KubernetesBuild]) -> None:
    build = overlay_builds["local"]
    nodes = [
        name
        for name, workload in build.workloads().items()
        if workload["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")
        == "central-bank-node"
    ]
    assert sorted(nodes) == sorted(f"{code}-node" for code in ("cn", "hk", "th", "ae", "sa"))


def test_tracing_is_on_only_with_a_collector(
    overlay_builds: dict[str, checks.KubernetesBuild],
) -> None:
    for overlay, enabled in [("local", False), ("observability", True), ("loadtest", True)]:
        build = overlay_builds[overlay]
        config = next(
            data
            for name, data in ((n, build.config_map(n)) for n in build.by_kind["ConfigMap"])
            if name.startswith("corridor-config")
        )
        assert config["OTEL_SDK_DISABLED"] == ("false" if enabled else "true"), overlay
        assert ("otel-collector" in build.by_kind["Deployment"]) is enabled, overlay
        assert ("jaeger" in build.by_kind["Deployment"]) is enabled, overlay


def test_loadtest_overlay_autoscales_locust_workers(
    overlay_builds: dict[str, checks.KubernetesBuild],
) -> None:
    build = overlay_builds["loadtest"]
    assert {"locust-master", "locust-worker"} <= set(build.by_kind["Deployment"])
    autoscaler = build.by_kind["HorizontalPodAutoscaler"]["locust-worker"]
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "locust-worker"
    worker = build.by_kind["Deployment"]["locust-worker"]
    args = checks.pod_spec(worker)["containers"][0]["args"]
    master_service = build.by_kind["Service"][args[args.index("--master-host") + 1]]
    assert 5557 in {port["port"] for port in master_service["spec"]["ports"]}


def test_sweep_overlay_is_a_dask_cluster(
    overlay_builds: dict[str, checks.KubernetesBuild], image_entrypoint: list[str]
) -> None:
    build = overlay_builds["sweep"]
    assert set(build.by_kind["Deployment"]) == {"dask-scheduler", "dask-worker"}
    assert set(build.by_kind["HorizontalPodAutoscaler"]) == {"dask-worker"}
    worker = checks.pod_spec(build.by_kind["Deployment"]["dask-worker"])["containers"][0]
    argv = checks.container_argv(worker, image_entrypoint)
    assert argv[:2] == ["dask", "worker"]
    scheduler_address = argv[2]
    assert scheduler_address == "tcp://dask-scheduler:8786"
    service_ports = {p["port"] for p in build.by_kind["Service"]["dask-scheduler"]["spec"]["ports"]}
    assert 8786 in service_ports
    # Dask must spill and restart a worker before the kernel OOM-kills the container.
    dask_limit = checks.parse_quantity(argv[argv.index("--memory-limit") + 1].replace("B", ""))
    container_limit = checks.parse_quantity(worker["resources"]["limits"]["memory"])
    assert dask_limit < container_limit


def test_distributed_sql_overlay_drops_the_in_cluster_database(
    overlay_builds: dict[str, checks.KubernetesBuild],
) -> None:
    build = overlay_builds["distributed-sql"]
    assert "StatefulSet" not in build.by_kind
    assert "postgres" not in build.by_kind["Service"]
    secret_name = next(iter(build.by_kind["Secret"]))
    url = build.secret_value(secret_name, "CORRIDOR_DATABASE_URL")
    assert url is not None and "@postgres:" not in url
    for name, workload in build.workloads().items():
        env = checks.container_env(checks.pod_spec(workload)["containers"][0], build)
        assert env.get("CORRIDOR_DATABASE_URL") == url, name


def _kustomization_dirs() -> list[Path]:
    return sorted(path.parent for path in checks.K8S_DIR.rglob("kustomization.yaml"))


def test_every_component_is_used_by_an_overlay() -> None:
    used: set[Path] = set()
    for overlay in checks.OVERLAYS:
        kustomization = checks.load_yaml(
            checks.K8S_DIR / "overlays" / overlay / "kustomization.yaml"
        )
        base = checks.K8S_DIR / "overlays" / overlay
        used |= {(base / entry).resolve() for entry in kustomization.get("components", [])}
    components = {d.resolve() for d in _kustomization_dirs() if d.parent.name == "components"}
    assert components - used == set(), "components no overlay builds (and so no test checks)"
