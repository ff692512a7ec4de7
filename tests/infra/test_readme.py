"""infra/README.md and the comments in infra/ point at things that exist and agree with the files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra import checks

README = checks.INFRA_DIR / "README.md"
TEXT_FILES = [README, *sorted(checks.INFRA_DIR.rglob("*.yaml")), checks.DOCKERFILE]
# `infra/...` paths, or paths relative to infra/ starting with a directory it has.
PATH_PATTERN = re.compile(
    r"(?<![\w/.-])((?:infra/)?(?:k8s|postgres)/[\w./-]*[\w]|infra/[\w./-]*[\w])"
)


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(checks.INFRA_DIR)))
def test_mentioned_paths_exist(path: Path) -> None:
    missing = []
    for mention in PATH_PATTERN.findall(path.read_text()):
        relative = mention.removeprefix("infra/")
        candidates = [checks.INFRA_DIR / relative, checks.REPO_ROOT / mention]
        if not any(candidate.exists() for candidate in candidates):
            missing.append(mention)
    assert missing == [], f"{path.name} mentions paths that do not exist"


def test_every_overlay_and_component_is_documented() -> None:
    readme = README.read_text()
    for kind in ("overlays", "components"):
        for directory in sorted((checks.K8S_DIR / kind).iterdir()):
            assert f"{kind}/{directory.name}" in readme, f"{kind}/{directory.name} undocumented"


def test_documented_commands_are_the_ones_compose_runs(
    compose: dict[str, Any], image_entrypoint: list[str]
) -> None:
    documented = set(re.findall(r"`(corridor [^`]*--bind [^`]*)`", README.read_text()))
    assert len(documented) == 5, documented  # node, bridge, vouchers, supervision, stablecoin
    run = {
        " ".join(checks.compose_argv(service, image_entrypoint))
        for service in compose["services"].values()
    }
    assert documented <= run


def test_documented_sweep_address_is_the_scheduler_service(
    overlay_builds: dict[str, checks.KubernetesBuild],
) -> None:
    readme = README.read_text()
    addresses = set(re.findall(r"sweep --address tcp://([\w.-]+):(\d+)", readme))
    assert ("dask-scheduler", "8786") in addresses
    services = overlay_builds["sweep"].by_kind["Service"]
    for host, port in addresses - {("127.0.0.1", "8786")}:
        assert int(port) in {p["port"] for p in services[host]["spec"]["ports"]}, host


def test_documented_variables_are_the_ones_the_files_set(compose: dict[str, Any]) -> None:
    readme = README.read_text()
    for key in compose["x-topology-env"]:
        if key.endswith("_TARGET"):
            continue  # documented as the CORRIDOR_<NAME>_TARGET family
        assert f"`{key}`" in readme, key
    assert "CORRIDOR_<NAME>_TARGET" in readme
