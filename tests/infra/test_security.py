"""Security in the deployment files, end to end without a cluster: the Secrets that
infra/security_secrets.py makes from `corridor certs`, mounted the way each manifest mounts
them, give every pod what it needs to speak mTLS and prove who it is, and nothing more."""

from __future__ import annotations

import base64
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tests.infra import checks

SCRIPT = checks.INFRA_DIR / "security_secrets.py"
SECURITY_VOLUME = "corridor-security"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def secrets(certs_dir: Path) -> dict[str, dict[str, Any]]:
    manifests = _load(SCRIPT).secret_manifests(certs_dir)
    return {manifest["metadata"]["name"]: manifest for manifest in manifests}


def _security_volume(workload: checks.Manifest) -> dict[str, Any] | None:
    volumes = checks.pod_spec(workload).get("volumes", [])
    return next((v for v in volumes if v["name"] == SECURITY_VOLUME), None)


def mount_as_the_kubelet(
    volume: dict[str, Any], secrets: dict[str, dict[str, Any]], into: Path
) -> Path:
    """Write the files a projected-Secrets volume shows its pod; a missing Secret or key is
    what would keep the pod in ContainerCreating, so it fails here."""
    for source in volume["projected"]["sources"]:
        name = source["secret"]["name"]
        assert name in secrets, f"Secret {name} is not made by infra/security_secrets.py"
        data = secrets[name]["data"]
        for item in source["secret"]["items"]:
            assert item["key"] in data, f"Secret {name} has no key {item['key']}"
            path = into / item["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64decode(data[item["key"]]))
    return into


def _pod_views(
    build: checks.KubernetesBuild,
    secrets: dict[str, dict[str, Any]],
    root: Path,
) -> Iterator[tuple[str, dict[str, str | None], Path]]:
    """(workload, container env, its security directory) for every pod that mounts one."""
    for name, workload in sorted(build.workloads().items()):
        volume = _security_volume(workload)
        if volume is None:
            continue
        container = checks.pod_spec(workload)["containers"][0]
        yield (
            name,
            checks.container_env(container, build),
            mount_as_the_kubelet(volume, secrets, root / name),
        )


@pytest.mark.parametrize("overlay", ["local", "loadtest"])
def test_each_pod_gets_what_it_needs_and_nothing_more(
    overlay: str,
    overlay_builds: dict[str, checks.KubernetesBuild],
    secrets: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    from corridor.security.credentials import CredentialVerifier, issue
    from corridor.security.fleet import service_identity
    from corridor.security.pki import credential_path, provisioned

    seen = set()
    for name, env, directory in _pod_views(overlay_builds[overlay], secrets, tmp_path):
        seen.add(name)
        files = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
        identity = env.get("CORRIDOR_SERVICE_IDENTITY") or ""
        assert "ca.key" not in files, name
        if identity:  # a server: needs nothing made, cannot mint
            assert provisioned(directory, identity, auth=True), (name, files)
            assert "credential-issuer.key" not in files, name
            claims = CredentialVerifier(directory).verify(
                credential_path(directory, identity).read_text().strip()
            )
            role, subject, jurisdiction, _ = service_identity(identity)
            assert (claims.role, claims.subject, claims.jurisdiction) == (
                role, subject, jurisdiction,
            ), name  # fmt: skip
            assert {f.split("/")[1].rsplit(".", 1)[0] for f in files if "/" in f} == {identity}
        else:  # Locust: the generic client pair, and it mints its users' credentials
            assert {"certs/client.pem", "certs/client.key"} <= files, name
            before = sorted(directory.rglob("*"))
            assert issue("operator", "bank-a", jurisdiction="CN", directory=directory)
            assert sorted(directory.rglob("*")) == before, "minting wrote to the mount"
    expected = {"cn-node", "hk-node", "th-node", "ae-node", "sa-node", "bridge", "vouchers",
                "supervision", "stablecoin"}  # fmt: skip
    if overlay == "loadtest":
        expected |= {"locust-master", "locust-worker"}
    assert seen == expected


@pytest.fixture
def cn_server(
    overlay_builds: dict[str, checks.KubernetesBuild],
    secrets: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> Iterator[tuple[int, dict[str, Path]]]:
    """The CN node's TLS port, from its own mounted Secrets, and every pod's directory."""
    from corridor.security.config import SecurityConfig
    from corridor.security.transport import server_credentials

    views = {name: d for name, _, d in _pod_views(overlay_builds["loadtest"], secrets, tmp_path)}
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    config = SecurityConfig(tls=True, auth=True, directory=views["cn-node"], identity="cn")
    port = server.add_secure_port("127.0.0.1:0", server_credentials(config))
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    server.start()
    try:
        yield port, views
    finally:
        server.stop(grace=None)


def test_a_pod_probes_itself_and_locust_reaches_it_by_service_name(
    cn_server: tuple[int, dict[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from corridor.security.config import SecurityConfig
    from corridor.security.transport import sync_channel

    port, views = cn_server
    # The exec probe, in the CN pod's environment (security left at its default).
    for key in ("CORRIDOR_INSECURE", "CORRIDOR_SECURE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CORRIDOR_SECURITY_DIR", str(views["cn-node"]))
    monkeypatch.setenv("CORRIDOR_SERVICE_IDENTITY", "cn")
    assert _load(checks.INFRA_DIR / "grpc_health_check.py").main([f"127.0.0.1:{port}"]) == 0
    # Locust dials cn-node:50051 through the Service: the certificate must answer to it.
    locust = SecurityConfig(tls=True, auth=True, directory=views["locust-master"])
    options = [("grpc.ssl_target_name_override", "cn-node")]
    with sync_channel(f"127.0.0.1:{port}", locust, options) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_certificates_answer_to_the_names_clients_dial(
    overlay_builds: dict[str, checks.KubernetesBuild], compose: dict[str, Any], certs_dir: Path
) -> None:
    """TLS checks the host name a client dialled: every CORRIDOR_<NAME>_TARGET host (a
    Service on Kubernetes, a service in compose) must be in <name>'s certificate."""
    from cryptography import x509

    config = next(
        overlay_builds["local"].config_map(name)
        for name in overlay_builds["local"].by_kind["ConfigMap"]
        if name.startswith("corridor-config")
    )
    targets = {k: v for k, v in config.items() if k.endswith("_TARGET")}
    assert len(targets) == 9, targets
    for key, target in targets.items():
        assert compose["x-topology-env"][key] == target, key
        identity = key.removeprefix("CORRIDOR_").removesuffix("_TARGET").lower()
        cert = x509.load_pem_x509_certificate(
            (certs_dir / "certs" / f"{identity}.pem").read_bytes()
        )
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert target.rsplit(":", 1)[0] in names.get_values_for_type(x509.DNSName), key


def test_plaintext_is_an_explicit_overlay(
    overlay_builds: dict[str, checks.KubernetesBuild],
) -> None:
    def config(overlay: str) -> dict[str, str]:
        build = overlay_builds[overlay]
        return next(
            build.config_map(name)
            for name in build.by_kind["ConfigMap"]
            if name.startswith("corridor-config")
        )

    for overlay in ("local", "observability", "loadtest", "distributed-sql"):
        assert config(overlay)["CORRIDOR_SECURE"] == "1", overlay
        assert config(overlay)["CORRIDOR_INSECURE"] == "0", overlay
    assert config("plaintext")["CORRIDOR_INSECURE"] == "1"
    plaintext = overlay_builds["plaintext"].workloads()
    assert len(plaintext) == 10
    for name, workload in plaintext.items():
        assert _security_volume(workload) is None, name
        mounts = checks.pod_spec(workload)["containers"][0].get("volumeMounts", [])
        assert all(m["name"] != SECURITY_VOLUME for m in mounts), name


def test_plaintext_component_also_strips_locust(tmp_path: Path, kubectl: str) -> None:
    infra = tmp_path / "infra"
    shutil.copytree(checks.INFRA_DIR, infra)
    overlay = infra / "k8s/overlays/loadtest-plaintext"
    overlay.mkdir()
    kustomization = checks.load_yaml(infra / "k8s/overlays/loadtest/kustomization.yaml")
    kustomization["components"].append("../../components/plaintext")
    (overlay / "kustomization.yaml").write_text(json.dumps(kustomization))
    build = checks.KubernetesBuild(checks.kustomize_build(overlay, kubectl))
    assert {"locust-master", "locust-worker"} <= set(build.workloads())
    for name, workload in build.workloads().items():
        assert _security_volume(workload) is None, name
    assert checks.workload_problems(build, checks.dockerfile_entrypoint()) == []


# ---- infra/security_secrets.py ------------------------------------------------------------


def test_secrets_are_valid_and_never_hold_the_ca_key(
    secrets: dict[str, dict[str, Any]],
) -> None:
    assert {"corridor-trust", "corridor-credential-issuer", "corridor-identity-client"} <= set(
        secrets
    )
    for name, secret in secrets.items():
        assert checks.kubernetes_schema_problems(secret, checks.KUBERNETES_VERSION_MIN) == []
        assert "ca.key" not in secret["data"], name
        assert secret["metadata"]["namespace"] == checks.NAMESPACE, name
        if name.startswith("corridor-identity-"):
            assert secret["type"] == "kubernetes.io/tls", name  # cert-manager's layout
            assert {"tls.crt", "tls.key"} <= set(secret["data"]), name
    assert "credential-issuer.key" in secrets["corridor-credential-issuer"]["data"]
    issuer_key = secrets["corridor-credential-issuer"]["data"]["credential-issuer.key"]
    holders = [n for n, s in secrets.items() if issuer_key in s["data"].values()]
    assert holders == ["corridor-credential-issuer"], "the issuer key is in one Secret only"


def test_script_prints_a_list_kubectl_can_apply(certs_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(certs_dir)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["kind"] == "List"
    assert {item["kind"] for item in document["items"]} == {"Secret"}


def test_script_names_what_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "ca.pem is missing" in result.stderr and "corridor certs" in result.stderr
    assert result.stdout == ""
