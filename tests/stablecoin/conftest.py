"""Shared fixtures: presets are parsed once per session (specs are immutable)."""

from __future__ import annotations

import pytest

from services.stablecoin.spec import StablecoinSpec, load_preset


@pytest.fixture(scope="session")
def svb() -> StablecoinSpec:
    return load_preset("svb-2023")


@pytest.fixture(scope="session")
def contagion() -> StablecoinSpec:
    return load_preset("dollar-contagion")


@pytest.fixture(scope="session")
def seed_haircut() -> StablecoinSpec:
    return load_preset("seed-haircut")
