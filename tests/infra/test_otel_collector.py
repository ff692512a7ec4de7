"""infra/otel-collector.yaml: a pipeline that is wired end to end, to hosts that exist.

No full collector installs here (the one PyPI collector build lacks the OTLP receiver), so
the config is checked structurally, and its endpoints against compose and Kubernetes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from tests.infra import checks


@pytest.fixture(scope="module")
def collector() -> dict[str, Any]:
    return checks.load_yaml(checks.COLLECTOR_CONFIG)


def test_every_pipeline_component_is_defined_and_used(collector: dict[str, Any]) -> None:
    assert checks.collector_problems(collector) == []


def test_traces_reach_jaeger_and_the_debug_log(collector: dict[str, Any]) -> None:
    traces = collector["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert set(traces["exporters"]) == {"otlp/jaeger", "debug"}
    assert traces["processors"][-1] == "batch", "batch last, after anything that drops spans"


def test_receivers_listen_where_services_send(
    collector: dict[str, Any], compose: dict[str, Any]
) -> None:
    protocols = collector["receivers"]["otlp"]["protocols"]
    grpc_endpoint = protocols["grpc"]["endpoint"]
    assert grpc_endpoint.startswith("0.0.0.0:"), "a collector in a container must bind all"
    services_send_to = urlparse(compose["x-topology-env"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert services_send_to.hostname == "otel-collector"
    assert services_send_to.hostname in compose["services"]
    assert services_send_to.port == int(grpc_endpoint.rsplit(":", 1)[1])


def test_exporters_point_at_hosts_that_exist(
    collector: dict[str, Any],
    compose: dict[str, Any],
    overlay_builds: dict[str, checks.KubernetesBuild],
) -> None:
    endpoints = checks.collector_exporter_endpoints(collector)
    assert endpoints, "no exporter with an endpoint"
    kubernetes_services = overlay_builds["observability"].by_kind["Service"]
    for name, endpoint in endpoints.items():
        host, port = endpoint.rsplit(":", 1)
        assert host in compose["services"], (name, host)
        assert compose["services"][host].get("profiles") == ["observability"], (name, host)
        ports = {p["port"] for p in kubernetes_services[host]["spec"]["ports"]}
        assert int(port) in ports, (name, endpoint)


def test_kubernetes_probes_the_health_check_extension(
    collector: dict[str, Any], overlay_builds: dict[str, checks.KubernetesBuild]
) -> None:
    health_port = int(collector["extensions"]["health_check"]["endpoint"].rsplit(":", 1)[1])
    deployment = overlay_builds["observability"].by_kind["Deployment"]["otel-collector"]
    container = checks.pod_spec(deployment)["containers"][0]
    named = {port["name"]: port["containerPort"] for port in container["ports"]}
    probe_port = container["readinessProbe"]["httpGet"]["port"]
    assert named.get(probe_port, probe_port) == health_port
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    assert container["args"] == [f"--config={mount['mountPath']}/config.yaml"]
