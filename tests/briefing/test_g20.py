from corridor.briefing.g20 import (
    Rating,
    rate_remittance_cost,
    rate_retail_cost,
    rate_speed_1bd,
    rate_speed_1h,
    rate_transparency,
)


def test_retail_cost_target_is_one_percent_with_a_three_percent_ceiling() -> None:
    assert rate_retail_cost(0.01, 0.03) is Rating.MEETS
    assert rate_retail_cost(0.0101, None) is Rating.NEAR
    assert rate_retail_cost(0.009, 0.031) is Rating.NEAR  # one corridor above 3%
    assert rate_retail_cost(0.031, None) is Rating.MISSES
    assert rate_retail_cost(None, 0.01) is Rating.UNKNOWN


def test_remittance_cost_target_is_three_percent_with_a_five_percent_ceiling() -> None:
    assert rate_remittance_cost(0.03, 0.05) is Rating.MEETS
    assert rate_remittance_cost(0.0649, None) is Rating.MISSES  # the 2025 world average
    assert rate_remittance_cost(0.04, 0.045) is Rating.NEAR


def test_speed_targets() -> None:
    assert rate_speed_1h(0.75) is Rating.MEETS
    assert rate_speed_1h(0.7499) is Rating.NEAR
    assert rate_speed_1h(0.49) is Rating.MISSES
    assert rate_speed_1bd(0.995) is Rating.MEETS
    assert rate_speed_1bd(0.95) is Rating.NEAR
    assert rate_speed_1bd(0.8) is Rating.MISSES
    assert rate_speed_1h(None) is Rating.UNKNOWN


def test_transparency() -> None:
    assert rate_transparency(True) is Rating.MEETS
    assert rate_transparency(False) is Rating.MISSES
    assert rate_transparency(None) is Rating.UNKNOWN
