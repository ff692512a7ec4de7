"""Every YAML file under infra/ parses, without duplicate keys, and copies stay in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra import checks

YAML_FILES = sorted(
    path for suffix in ("*.yaml", "*.yml") for path in checks.INFRA_DIR.rglob(suffix)
)

# kustomize only reads files inside its own directory tree, so two files are copied there;
# each pair must stay byte-for-byte equal or compose and Kubernetes run different configs.
COPIES = [
    (
        checks.INFRA_DIR / "postgres" / "init-databases.sql",
        checks.K8S_DIR / "base" / "init-databases.sql",
    ),
    (
        checks.COLLECTOR_CONFIG,
        checks.K8S_DIR / "components" / "observability" / "collector-config.yaml",
    ),
]


def test_infra_has_yaml_files() -> None:
    # Guards the parametrized test below against silently running on nothing.
    assert len(YAML_FILES) >= 15, YAML_FILES


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(checks.INFRA_DIR)))
def test_yaml_file_parses(path: Path) -> None:
    documents = checks.load_yaml_documents(path)
    assert documents, f"{path} holds no YAML document"
    assert all(isinstance(document, dict) for document in documents), path


@pytest.mark.parametrize(
    ("original", "copy"), COPIES, ids=lambda p: str(p.relative_to(checks.INFRA_DIR))
)
def test_copies_match_their_original(original: Path, copy: Path) -> None:
    assert copy.read_bytes() == original.read_bytes(), f"copy {original} over {copy}"
