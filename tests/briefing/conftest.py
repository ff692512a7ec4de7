"""Shared fixtures for the briefing tests: one realistic results directory and one sweep,
written once per session (they are read-only for the tests that share them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.briefing.results_fixture import FixtureRun, write_results_dir, write_sweep_dir


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> FixtureRun:
    return write_results_dir(tmp_path_factory.mktemp("results") / "dollar-contagion")


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sweep") / "sweep"
    write_sweep_dir(directory)
    return directory


def element(html: str, element_id: str) -> str:
    """The HTML of the <figure> or <section> with this id (they never nest in themselves)."""
    match = re.search(
        rf'<(figure|section)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', html, re.DOTALL
    )
    assert match, f"no element with id {element_id!r}"
    return match.group(2)


def heading(html: str, element_id: str) -> str:
    match = re.search(r"<h3>(.*?)</h3>", element(html, element_id), re.DOTALL)
    assert match, f"{element_id} has no heading"
    return match.group(1)
