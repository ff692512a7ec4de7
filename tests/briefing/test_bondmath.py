import pytest

from corridor.briefing.bondmath import bill_loss, losses_for_shock, note_loss


def test_a_three_month_bill_loses_about_a_quarter_percent_for_100bp() -> None:
    assert bill_loss(91, 0.043, 0.01) == pytest.approx(0.0024, abs=0.0002)


def test_a_short_wam_portfolio_loses_005_to_025_percent() -> None:
    assert bill_loss(20, 0.043, 0.01) == pytest.approx(0.0005, abs=0.0001)
    assert bill_loss(93, 0.043, 0.01) == pytest.approx(0.0024, abs=0.0002)


def test_a_ten_year_note_loses_about_77_percent() -> None:
    assert note_loss(10, 0.0425, 0.0425, 0.01) == pytest.approx(0.077, abs=0.002)


def test_the_seed_claim_is_shown_beside_the_bond_math() -> None:
    losses = losses_for_shock(seed_claim=0.12)
    assert losses[0].loss == 0.12
    assert all(r.loss < 0.1 for r in losses[1:])
