"""infra/Dockerfile: the one image every Corridor process runs, built non-root."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from tests.infra import checks


def _final_stage() -> list[tuple[str, str]]:
    instructions = checks.dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def test_final_stage_is_python_311_slim_running_corridor() -> None:
    stage = _final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim")
    entrypoint = [argument for keyword, argument in stage if keyword == "ENTRYPOINT"]
    assert [json.loads(argument) for argument in entrypoint] == [["corridor"]]


def test_runs_as_a_numeric_non_root_user() -> None:
    # Kubernetes can only enforce runAsNonRoot against a numeric UID.
    users = [argument for keyword, argument in _final_stage() if keyword == "USER"]
    assert users, "no USER: the image would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, users[-1]


def test_installs_the_project_with_pip() -> None:
    runs = [argument for keyword, argument in checks.dockerfile_instructions() if keyword == "RUN"]
    assert any("pip install" in run and run.rstrip().endswith(" .") for run in runs), runs


def test_uid_matches_the_deployment_files(
    compose: dict[str, Any], overlay_builds: dict[str, checks.KubernetesBuild]
) -> None:
    uid = [argument for keyword, argument in _final_stage() if keyword == "USER"][-1]
    for name, service in compose["services"].items():
        if service.get("image") == checks.CORRIDOR_IMAGE:
            assert service["user"] == uid, name
    for overlay, build in overlay_builds.items():
        for name, workload in build.workloads().items():
            if checks.pod_spec(workload)["containers"][0]["image"] == checks.CORRIDOR_IMAGE:
                run_as = checks.pod_spec(workload)["securityContext"]["runAsUser"]
                assert str(run_as) == uid.split(":")[0], (overlay, name)


def _dockerignore_excludes(path: str) -> bool:
    """Apply infra/Dockerfile.dockerignore's rules (last match wins) to one context path."""
    excluded = False
    for raw in (checks.INFRA_DIR / "Dockerfile.dockerignore").read_text().splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*"):
            excluded = not negate
    return excluded


def test_copied_sources_exist_and_reach_the_build_context() -> None:
    for keyword, argument in checks.dockerfile_instructions():
        if keyword != "COPY" or argument.startswith("--from"):
            continue
        sources = argument.split()[:-1]
        for source in sources:
            if source == ".":
                continue
            assert (checks.REPO_ROOT / source).exists(), source
            assert not _dockerignore_excludes(source), f"{source} is dockerignored"
    for needed in (
        "pyproject.toml",
        "corridor/cli.py",
        "services/__init__.py",
        "bridge/__init__.py",
    ):
        assert not _dockerignore_excludes(needed), needed
    assert _dockerignore_excludes(".venv/bin/python"), "the venv must stay out of the image"
    assert _dockerignore_excludes("tests/infra/checks.py")


def test_exposes_every_port_the_files_use(
    compose: dict[str, Any], image_entrypoint: list[str]
) -> None:
    exposed = {
        int(port)
        for keyword, argument in _final_stage()
        if keyword == "EXPOSE"
        for port in argument.split()
    }
    for name, service in compose["services"].items():
        if service.get("image") != checks.CORRIDOR_IMAGE:
            continue
        for entry in service.get("ports", []):
            assert checks.parse_compose_port(entry).container_port in exposed, name


def test_everything_pip_install_needs_is_in_the_build_context() -> None:
    import tomllib

    project = tomllib.loads((checks.REPO_ROOT / "pyproject.toml").read_text())["project"]
    readme = project.get("readme")
    if isinstance(readme, str):
        assert not _dockerignore_excludes(readme), f"{readme} is dockerignored"
        if not (checks.REPO_ROOT / readme).exists():
            pytest.skip(f"pyproject names readme {readme!r}, which does not exist yet: "
                        "`pip install .` (and so the image build) fails until it does")  # fmt: skip
