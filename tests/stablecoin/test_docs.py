"""The README documents every parameter: its reference tables are generated and must be fresh."""

from __future__ import annotations

from services.stablecoin.docs import README, main, parameter_markdown
from services.stablecoin.spec import StablecoinSpec


def test_readme_parameter_reference_is_fresh() -> None:
    assert main(["--check"]) == 0, "run: python -m services.stablecoin.docs"


def test_every_top_level_section_is_documented() -> None:
    text = parameter_markdown()
    for name in StablecoinSpec.model_fields:
        assert f"| `{name}` |" in text
    assert "kind: assumed_reserve_haircut" in README.read_text()
