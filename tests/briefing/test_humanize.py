from corridor.briefing import humanize as h


def test_counts_read_like_speech() -> None:
    assert h.count(950) == "950"
    assert h.count(12_345) == "12,345"
    assert h.count(3_400_000) == "3.4 m"
    assert h.count(1_234_567) == "1.23 m"
    assert h.count(2_500_000_000) == "2.5 bn"


def test_percent_never_rounds_a_miss_up_to_100() -> None:
    assert h.percent(0.9996) == "99.9%"
    assert h.percent(1.0) == "100%"
    assert h.percent(0.75) == "75%"
    assert h.percent(0.0041) == "0.41%"
    assert h.percent(0.0) == "0%"


def test_durations_pick_the_unit_a_person_would() -> None:
    assert h.duration(0.18) == "180 ms"
    assert h.duration(42) == "42 s"
    assert h.duration(780) == "13 min"
    assert h.duration(41 * 3600) == "41 h"
    assert h.duration(3 * 86400) == "3 days"


def test_money_from_minor_units() -> None:
    assert h.usd_minor(330_000_000_000) == "$3.3 bn"
    assert h.usd_minor(20_000) == "$200.00"
    assert h.bps_as_percent(41) == "0.41%"


def test_missing_figures_become_a_dash_not_an_error() -> None:
    for fmt in (h.count, h.percent, h.duration, h.price, h.usd_minor, h.hours, h.number):
        assert fmt(None) == h.MISSING
        assert fmt(float("nan")) == h.MISSING
    assert h.count(True) == h.MISSING  # a bool is not a count
