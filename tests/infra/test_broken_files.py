"""The validators catch broken files: each test breaks a copy of infra/ and expects a finding.

A check that passes on the real files proves little unless it fails on a broken one. Every
mutation below is a mistake someone could make (a typo, a wrong port, a lost security
setting), applied to a fresh copy of infra/ in a temporary directory.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra import checks


@pytest.fixture
def infra_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "infra"
    shutil.copytree(checks.INFRA_DIR, copy)
    return copy


def mutate(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace `old` with `new`, insisting that `old` is there: no silent non-mutation."""
    text = path.read_text()
    assert text.count(old) >= 1, f"{old!r} not in {path}; the mutation would test nothing"
    path.write_text(text.replace(old, new, count))


def build(infra: Path, kubectl: str, overlay: str = "local") -> checks.KubernetesBuild:
    return checks.KubernetesBuild(checks.kustomize_build(infra / "k8s/overlays" / overlay, kubectl))


def rules(infra: Path, kubectl: str, overlay: str = "local") -> list[str]:
    built = build(infra, kubectl, overlay)
    entrypoint = checks.dockerfile_entrypoint()
    return checks.workload_problems(built, entrypoint) + checks.single_instance_problems(
        built, entrypoint
    )


def assert_reported(problems: list[str], *fragments: str) -> None:
    assert any(all(f in problem for f in fragments) for problem in problems), problems


# ---- compose ------------------------------------------------------------------------------


def test_compose_typo_breaks_the_schema(infra_copy: Path) -> None:
    compose = infra_copy / "compose.yaml"
    mutate(compose, '    ports: ["127.0.0.1:50060:50060"]', '    portz: ["127.0.0.1:50060:50060"]')
    problems = checks.compose_schema_problems(checks.load_yaml(compose))
    assert_reported(problems, "services.bridge", "portz")


def test_compose_bad_value_breaks_the_schema(infra_copy: Path) -> None:
    compose = infra_copy / "compose.yaml"
    mutate(compose, "cn-node: {condition: service_healthy}", "cn-node: {condition: service_up}")
    problems = checks.compose_schema_problems(checks.load_yaml(compose))
    assert_reported(problems, "services.bridge.depends_on", "service_up")


def test_duplicate_key_is_reported_with_its_line(infra_copy: Path) -> None:
    compose = infra_copy / "compose.yaml"
    mutate(
        compose,
        "  bridge:\n    <<: [*corridor-image, *hardening, *security-mount]\n",
        "  bridge:\n    <<: [*corridor-image, *hardening, *security-mount]\n    image: corridor:latest\n"
        "    image: postgres:16\n",
    )
    with pytest.raises(checks.InfraFileError, match=r"compose\.yaml:\d+: duplicate key 'image'"):
        checks.load_yaml(compose)


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ("  read_only: true\n", "  read_only: false\n", ("services.cn-node", "read_only")),
        ("  cap_drop: [ALL]\n", "  cap_drop: [NET_RAW]\n", ("services.bridge", "capabilities")),
        ('  user: "10001:10001"\n  restart', '  user: "0:0"\n  restart', ("services.vouchers", "user")),
        (
            '["127.0.0.1:50051:50051"]',
            '["50051:50051"]',
            ("services.cn-node", "127.0.0.1 only"),
        ),
        (
            '"/app/infra/grpc_health_check.py", "127.0.0.1:50052"]',
            '"/app/infra/grpc_health_check.py", "127.0.0.1:50059"]',
            ("services.hk-node", "bind port 50052"),
        ),
        (
            "      bridge: {condition: service_healthy}",
            "      bridges: {condition: service_healthy}",
            ("services.locust-master.depends_on", "'bridges'"),
        ),
        ("image: jaegertracing/all-in-one:1.62.0", "image: jaegertracing/all-in-one", ("jaeger", "pinned")),
        (
            "./postgres/init-databases.sql:",
            "./postgres/init-database.sql:",
            ("services.postgres.volumes", "does not exist"),
        ),
    ],
    ids=["writable-fs", "capabilities", "root-user", "public-port", "health-port", "depends-on",
         "unpinned-image", "missing-mount"],
)  # fmt: skip
def test_compose_rule_breaks_are_reported(
    infra_copy: Path, old: str, new: str, fragments: tuple[str, ...]
) -> None:
    compose = infra_copy / "compose.yaml"
    mutate(compose, old, new)
    assert_reported(checks.compose_problems(checks.load_yaml(compose), infra_copy), *fragments)


def test_profiled_dependency_of_a_default_service_is_reported(infra_copy: Path) -> None:
    compose = infra_copy / "compose.yaml"
    mutate(compose, "    depends_on: *after-setup\n    healthcheck:\n      test: [\"CMD\", \"python\", "
           "\"/app/infra/grpc_health_check.py\", \"127.0.0.1:50061\"]",
           "    depends_on: [jaeger]\n    healthcheck:\n      test: [\"CMD\", \"python\", "
           "\"/app/infra/grpc_health_check.py\", \"127.0.0.1:50061\"]")  # fmt: skip
    problems = checks.compose_problems(checks.load_yaml(compose), infra_copy)
    assert_reported(problems, "services.vouchers.depends_on", "observability")


# ---- security: mTLS + credentials unless the explicit plaintext flag ---------------------


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        (
            "  cn-node:\n    <<: [*corridor-image, *hardening, *security-mount]",
            "  cn-node:\n    <<: [*corridor-image, *hardening]",
            ("services.cn-node", "mounts nothing at CORRIDOR_SECURITY_DIR"),
        ),
        (
            '  CORRIDOR_SECURE: "1"\n',
            '  CORRIDOR_SECURE: "0"\n',
            ("services.bridge", "CORRIDOR_SECURE='0'", "explicit CORRIDOR_INSECURE=1"),
        ),
        (
            "    - corridor-security:/etc/corridor/security:ro\n",
            "    - corridor-security:/etc/corridor/security\n",
            ("services.vouchers", "read-only"),
        ),
        (
            "      CORRIDOR_SERVICE_IDENTITY: hk\n",
            "      CORRIDOR_SERVICE_IDENTITY: cn\n",
            ("services.hk-node", "port 50052", "'cn'"),
        ),
        (
            "  certs:\n    condition: service_completed_successfully\n",
            "  certs:\n    condition: service_started\n",
            ("services.stablecoin", "'certs'", "service_completed_successfully"),
        ),
        ('    restart: "no"\n', "    restart: unless-stopped\n", ("services.certs", "one-shot")),
        (
            '"/etc/corridor/security", "--service-credentials"]',
            '"/etc/corridor/security"]',
            ("services.certs", "--service-credentials"),
        ),
        (
            '"certs", "--dir", "/etc/corridor/security"',
            '"certs", "--dir", "/tmp/security"',
            ("services.certs", "writable volume"),
        ),
    ],
    ids=["no-security-mount", "plaintext-without-flag", "writable-security-mount",
         "wrong-identity", "start-before-certs", "restarting-job", "no-service-credentials",
         "certs-outside-the-volume"],
)  # fmt: skip
def test_compose_security_breaks_are_reported(
    infra_copy: Path, old: str, new: str, fragments: tuple[str, ...]
) -> None:
    compose = infra_copy / "compose.yaml"
    mutate(compose, old, new)
    assert_reported(checks.compose_problems(checks.load_yaml(compose), infra_copy), *fragments)


def test_compose_explicit_plaintext_needs_no_certificates(infra_copy: Path) -> None:
    # The rule is "secure unless explicitly plaintext", not "always secure": with the flag
    # set, a service may run without the certificate volume.
    compose = infra_copy / "compose.yaml"
    mutate(compose, "  CORRIDOR_INSECURE: ${CORRIDOR_INSECURE:-0}\n", '  CORRIDOR_INSECURE: "1"\n')
    mutate(compose, "  cn-node:\n    <<: [*corridor-image, *hardening, *security-mount]",
           "  cn-node:\n    <<: [*corridor-image, *hardening]")  # fmt: skip
    assert checks.compose_problems(checks.load_yaml(compose), infra_copy) == []


# ---- kustomize and Kubernetes -------------------------------------------------------------


def test_missing_resource_file_fails_the_build(infra_copy: Path, kubectl: str) -> None:
    (infra_copy / "k8s/base/vouchers.yaml").unlink()
    with pytest.raises(checks.KustomizeError, match="vouchers.yaml"):
        build(infra_copy, kubectl)


def test_unknown_kustomization_field_fails_the_build(infra_copy: Path, kubectl: str) -> None:
    mutate(infra_copy / "k8s/base/kustomization.yaml", "resources:\n", "resourcez:\n")
    with pytest.raises(checks.KustomizeError):
        build(infra_copy, kubectl)


def test_wrong_field_type_fails_the_kubernetes_schema(infra_copy: Path, kubectl: str) -> None:
    mutate(infra_copy / "k8s/base/bridge.yaml", "  replicas: 1\n", '  replicas: "one"\n')
    built = build(infra_copy, kubectl)
    problems = checks.kubernetes_schema_problems(
        built.by_kind["Deployment"]["bridge"], checks.KUBERNETES_VERSION_MIN
    )
    assert_reported(problems, "Deployment/bridge", "spec.replicas")


def test_misspelled_field_fails_the_strict_schema(infra_copy: Path, kubectl: str) -> None:
    mutate(infra_copy / "k8s/base/vouchers.yaml", "readinessProbe:", "readinesProbe:")
    built = build(infra_copy, kubectl)
    problems = checks.kubernetes_schema_problems(
        built.by_kind["Deployment"]["vouchers"], checks.KUBERNETES_VERSION_MIN
    )
    assert_reported(problems, "readinesProbe")


MutationCase = tuple[str, str, str, tuple[str, ...]]
KUBERNETES_RULE_BREAKS: list[MutationCase] = [
    (
        "base/bridge.yaml",
        "  selector:\n    app.kubernetes.io/name: bridge\n",
        "  selector:\n    app.kubernetes.io/name: bridg\n",
        ("Service/bridge", "matches no workload"),
    ),
    (
        "base/supervision.yaml",
        '"127.0.0.1:50062"]\n            periodSeconds: 5',
        '"127.0.0.1:50069"]\n            periodSeconds: 5',
        ("supervision", "readinessProbe", "50062"),
    ),
    (
        "base/stablecoin.yaml",
        "      targetPort: grpc",
        "      targetPort: grcp",
        ("Service/stablecoin", "grcp"),
    ),
    (
        "base/vouchers.yaml",
        "            readOnlyRootFilesystem: true",
        "            readOnlyRootFilesystem: false",
        ("vouchers/vouchers", "readOnlyRootFilesystem"),
    ),
    (
        "base/nodes.yaml",
        "        runAsUser: 10001",
        "        runAsUser: 0",
        ("cn-node/node", "runAsUser"),
    ),
    (
        "base/postgres.yaml",
        "              memory: 2Gi",
        "              memory: 128Mi",
        ("postgres/postgres", "memory request above its limit"),
    ),
    (
        "base/nodes.yaml",
        "                  name: corridor-database",
        "                  name: corridor-databases",
        ("cn-node", "corridor-databases"),
    ),
    (
        "base/vouchers.yaml",
        "  replicas: 1\n",
        "  replicas: 2\n",
        ("vouchers", "exactly one replica"),
    ),
    (
        "base/bridge.yaml",
        "    type: Recreate\n",
        "    type: RollingUpdate\n",
        ("bridge", "must be Recreate"),
    ),
    (
        "base/vouchers.yaml",
        (
            "            - name: corridor-security\n              mountPath: /etc/corridor/security\n"
            "              readOnly: true\n"
        ),
        "",
        ("vouchers/vouchers", "mounts nothing at CORRIDOR_SECURITY_DIR"),
    ),
    (
        "base/kustomization.yaml",
        "      - CORRIDOR_SECURE=1\n",
        "      - CORRIDOR_SECURE=0\n",
        ("cn-node/node", "CORRIDOR_SECURE='0'", "explicit CORRIDOR_INSECURE=1"),
    ),
    (
        "base/stablecoin.yaml",
        (
            "readinessProbe:\n            exec:\n              command: [python, "
            '/app/infra/grpc_health_check.py, "127.0.0.1:50063"]\n'
        ),
        "readinessProbe:\n            grpc:\n              port: 50063\n",
        ("stablecoin/stablecoin", "readinessProbe", "client certificate"),
    ),
    (
        "base/bridge.yaml",
        "            periodSeconds: 10\n            timeoutSeconds: 5\n",
        "            periodSeconds: 10\n",
        ("bridge/bridge", "livenessProbe", "timeoutSeconds"),
    ),
    (
        "base/bridge.yaml",
        "                    - {key: credential-issuer.pub, path: credential-issuer.pub}\n",
        (
            "                    - {key: credential-issuer.pub, path: credential-issuer.pub}\n"
            "                    - {key: credential-issuer.key, path: credential-issuer.key}\n"
        ),
        ("bridge/bridge", "must not be able to read", "credential-issuer.key"),
    ),
    (
        "base/nodes.yaml",
        "{key: tls.key, path: certs/cn.key}",
        "{key: tls.key, path: certs/hk.key}",
        ("cn-node/node", "certs/hk.key"),
    ),
    (
        "base/nodes.yaml",
        "CORRIDOR_SERVICE_IDENTITY\n              value: th\n",
        "CORRIDOR_SERVICE_IDENTITY\n              value: ae\n",
        ("th-node/node", "serves port 50053", "'ae'"),
    ),
    (
        "base/bridge.yaml",
        "defaultMode: 288  # 0440",
        "defaultMode: 420  # 0644",
        ("bridge/bridge", "readable by every user"),
    ),
    (
        "base/supervision.yaml",
        "\n                    - {key: credential.jwt, path: credentials/supervision.jwt}",
        "",
        ("supervision/supervision", "lacks", "credentials/supervision.jwt"),
    ),
]


@pytest.mark.parametrize(
    ("relative_path", "old", "new", "fragments"),
    KUBERNETES_RULE_BREAKS,
    ids=["service-selector", "probe-port", "target-port", "writable-fs", "root-uid",
         "request-over-limit", "missing-secret", "replicated-ledger", "rolling-writer",
         "no-security-mount", "plaintext-without-flag", "native-grpc-probe-under-mtls",
         "python-probe-timeout", "issuer-key-on-a-server", "another-services-key",
         "wrong-identity", "world-readable-keys", "missing-credential"],
)  # fmt: skip
def test_kubernetes_rule_breaks_are_reported(
    infra_copy: Path,
    kubectl: str,
    relative_path: str,
    old: str,
    new: str,
    fragments: tuple[str, ...],
) -> None:
    mutate(infra_copy / "k8s" / relative_path, old, new)
    assert_reported(rules(infra_copy, kubectl), *fragments)


def test_locust_without_the_issuer_key_is_reported(infra_copy: Path, kubectl: str) -> None:
    # Locust mints each simulated user's credential: without the issuer key every call fails.
    mutate(
        infra_copy / "k8s/components/locust/locust.yaml",
        "              - secret:\n                  name: corridor-credential-issuer\n"
        "                  items:\n"
        "                    - {key: credential-issuer.key, path: credential-issuer.key}\n",
        "",
    )
    problems = rules(infra_copy, kubectl, "loadtest")
    assert_reported(problems, "locust-master/locust", "lacks", "credential-issuer.key")


def test_plaintext_component_without_the_flag_is_reported(infra_copy: Path, kubectl: str) -> None:
    # CORRIDOR_SECURE=0 alone is not the explicit opt-in, and the mounts are gone.
    mutate(
        infra_copy / "k8s/components/plaintext/kustomization.yaml",
        "      - CORRIDOR_INSECURE=1\n",
        "",
    )
    problems = rules(infra_copy, kubectl, "plaintext")
    assert_reported(problems, "bridge/bridge", "CORRIDOR_SECURE='0'", "explicit")
    assert_reported(problems, "bridge/bridge", "mounts nothing at CORRIDOR_SECURITY_DIR")


def test_autoscaled_server_is_reported(infra_copy: Path, kubectl: str) -> None:
    hpa = infra_copy / "k8s/base/bridge-hpa.yaml"
    hpa.write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: bridge}\n"
        "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: bridge}\n"
        "  minReplicas: 1\n  maxReplicas: 4\n"
    )
    mutate(infra_copy / "k8s/base/kustomization.yaml", "  - stablecoin.yaml\n",
           "  - stablecoin.yaml\n  - bridge-hpa.yaml\n")  # fmt: skip
    problems = rules(infra_copy, kubectl)
    assert_reported(problems, "bridge", "must not be autoscaled")
    assert_reported(problems, "HPA/bridge", "single-instance (Recreate)")


def test_component_without_namespace_is_reported(infra_copy: Path, kubectl: str) -> None:
    overlay = infra_copy / "k8s/overlays/observability/kustomization.yaml"
    mutate(overlay, "namespace: corridor\n", "")
    assert_reported(rules(infra_copy, kubectl, "observability"), "otel-collector", "namespace")


# ---- collector ----------------------------------------------------------------------------

CollectorMutation = Callable[[dict], None]


def _drop_jaeger_exporter(config: dict) -> None:
    del config["exporters"]["otlp/jaeger"]


def _unused_processor(config: dict) -> None:
    config["processors"]["probabilistic_sampler"] = {"sampling_percentage": 10}


def _limiter_not_first(config: dict) -> None:
    config["service"]["pipelines"]["traces"]["processors"] = ["batch", "memory_limiter"]


@pytest.mark.parametrize(
    ("breakage", "fragment"),
    [
        (_drop_jaeger_exporter, "'otlp/jaeger' is not defined"),
        (_unused_processor, "probabilistic_sampler: defined but used by no pipeline"),
        (_limiter_not_first, "memory_limiter must come first"),
    ],
    ids=["undefined-exporter", "unused-processor", "limiter-order"],
)
def test_collector_breaks_are_reported(breakage: CollectorMutation, fragment: str) -> None:
    config = checks.load_yaml(checks.COLLECTOR_CONFIG)
    breakage(config)
    assert_reported(checks.collector_problems(config), fragment)
