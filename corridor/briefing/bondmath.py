"""What a yield rise does to a Treasury reserve portfolio: bond math, not narrative.

The project's seed narrative says a +1 pp rise in 10-year yields shrinks a T-bill
stablecoin's reserves by 12%. Pricing the instruments says otherwise: a bill's price
moves by roughly its remaining maturity times the yield change, so a 3-month bill loses
about 0.25% for +100 bp and a 20–93-day portfolio 0.05–0.25%; only a 10-year note
(modified duration ~8) loses about 7.7%. The briefing shows both, side by side, so the
reader sees which one a scenario assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

SEED_CLAIM_LOSS = 0.12  # the seed narrative: reserves -12% for +1 pp in 10-year yields
DAYS_PER_YEAR = 365.0


def bill_price(years: float, annual_yield: float) -> float:
    """Price per 1 of face of a zero-coupon bill, annually compounded yield."""
    return (1.0 + annual_yield) ** (-years)


def bill_loss(days: float, base_yield: float, shock: float) -> float:
    """Fractional loss of a bill with ``days`` to maturity when its yield rises by ``shock``."""
    years = days / DAYS_PER_YEAR
    return 1.0 - bill_price(years, base_yield + shock) / bill_price(years, base_yield)


def note_price(years: int, coupon: float, annual_yield: float, per_year: int = 2) -> float:
    """Price per 1 of face of a coupon note (US Treasury convention: semi-annual coupons)."""
    periods = years * per_year
    rate = annual_yield / per_year
    coupons = sum(coupon / per_year / (1 + rate) ** k for k in range(1, periods + 1))
    return coupons + 1.0 / (1 + rate) ** periods


def note_loss(years: int, coupon: float, base_yield: float, shock: float) -> float:
    return 1.0 - note_price(years, coupon, base_yield + shock) / note_price(
        years, coupon, base_yield
    )


@dataclass(frozen=True)
class ReserveLoss:
    label: str
    loss: float
    text: str = ""  # how to show the loss when it is a range rather than one number


def losses_from_run(block: object, seed_claim: float) -> list[ReserveLoss] | None:
    """The same comparison from a run's own pricing (``summary.stablecoin.bond_math``: percent
    price changes, negative for a loss, on the run's yield curve and its actual portfolio
    WAM), or ``None`` when the run did not report one."""
    if not isinstance(block, dict):
        return None

    def loss(key: str) -> float | None:
        value = block.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return abs(float(value)) / 100.0

    bill, note = loss("tbill_3m_pct"), loss("note_10y_pct")
    if bill is None or note is None:
        return None
    out = [
        ReserveLoss("Seed narrative (claimed)", seed_claim, f"{seed_claim * 100:g}% (claimed)"),
        ReserveLoss("3-month T-bill", bill),
    ]
    portfolio, wam = loss("bill_portfolio_pct"), block.get("bill_portfolio_wam_days")
    if portfolio is not None:
        if isinstance(wam, int | float) and wam >= 1:
            label = f"This run's bills (WAM {float(wam):.0f} days)"
        elif isinstance(wam, int | float):
            label = "This run's bills (WAM < 1 day)"
        else:
            label = "This run's bill portfolio"
        out.append(ReserveLoss(label, portfolio))
    out.append(ReserveLoss("10-year Treasury note", note))
    return out


def losses_for_shock(
    shock: float = 0.01,
    bill_yield: float = 0.043,
    note_yield: float = 0.0425,
    seed_claim: float = SEED_CLAIM_LOSS,
) -> list[ReserveLoss]:
    """The comparison the briefing draws: the seed's claim against priced instruments."""
    wam_low, wam_high = bill_loss(20, bill_yield, shock), bill_loss(93, bill_yield, shock)
    return [
        ReserveLoss("Seed narrative (claimed)", seed_claim, f"{seed_claim * 100:g}% (claimed)"),
        ReserveLoss("3-month T-bill", bill_loss(91, bill_yield, shock)),
        ReserveLoss(
            "Bill portfolio, WAM 20–93 days",
            wam_high,
            f"{wam_low * 100:.2f}–{wam_high * 100:.2f}%",
        ),
        ReserveLoss("10-year Treasury note", note_loss(10, note_yield, note_yield, shock)),
    ]
