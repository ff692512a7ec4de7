"""Token holders: cohorts whose run behaviour reacts to price, news and each other.

A cohort is a group of holders who behave alike (EM households in one country, an exchange's
customers, a central bank's token reserve), aggregated so a run costs microseconds, not millions of
agents. Each step a cohort pulls a fraction of what it is still willing to pull::

    stress  = news_sensitivity * alarm
            + price_sensitivity * (slope * cents below par + accel * cents below the threshold
                                   + shortfall_weight * % by which reserves fall short of tokens)
            + herd_sensitivity * herd_per_pct * (% of supply exited by others in the window)
    hazard  = hazard_per_h * stress * (1 - backstop_cut if a backstop is in force)
    exit    = runnable * (1 - exp(-hazard * dt_h * noise)),  noise ~ lognormal(0, sigma), mean 1
    runnable = run_share * initial balance - already exited

The kink at ``run_threshold_price`` (0.99) is the acceleration the Fed staff found in the March
2023 redemption data; ``run_share`` caps how much of a cohort is flighty at all (sticky holders
stay). A known shortfall of reserves is itself a reason to run: the issuer pays par first come,
first served, so whoever leaves last bears the hole. ``alarm`` is news: each shock adds to it (globally or for the cohorts it targets) and it
fades with a half-life; a credible backstop removes most of it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from services.stablecoin.spec import BehaviourSpec, HolderSpec


@dataclass
class HolderCohort:
    spec: HolderSpec
    balance_minor: int
    initial_minor: int
    exited_minor: int = 0  # tokens that left by any route (queued, converted, sold)
    queued_minor: int = 0  # tokens waiting in the issuer's queue
    sold_minor: int = 0
    sale_proceeds_minor: int = 0
    redeemed_minor: int = 0
    redemption_cash_minor: int = 0
    cash_minor: int = 0
    ramp_cost_minor: int = 0
    flight_minor: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    owner: str = ""  # key in the issuer's queue
    par_exchange: str | None = None  # exchange converting at par for this cohort, if any

    def __post_init__(self) -> None:
        # Copied out of the spec: the run loop reads these every step.
        s = self.spec
        self.hazard_per_h = s.hazard_per_h
        self.news = s.news_sensitivity
        self.price = s.price_sensitivity
        self.herd = s.herd_sensitivity
        self.issuer_access = s.issuer_access
        self.run_cap_minor = math.floor(s.run_share * self.initial_minor)

    @property
    def name(self) -> str:
        return self.spec.name

    def runnable(self) -> int:
        cap = self.run_cap_minor - self.exited_minor
        return min(self.balance_minor, cap)

    def exit_amount(self, stress: float, backstop_factor: float, dt_h: float, noise: float) -> int:
        """Tokens this cohort pulls in one step (``noise`` = 1 for the expected amount)."""
        runnable = self.runnable()
        if stress <= 0 or runnable <= 0:
            return 0
        hazard = self.hazard_per_h * stress * backstop_factor
        return math.floor(runnable * (1.0 - math.exp(-hazard * dt_h * noise)))

    def receive_cash(self, cash_minor: int) -> None:
        """Exit proceeds arrive; they flee to the cohort's destinations (largest remainder)."""
        self.cash_minor += cash_minor
        shares = self.spec.flight
        allotted = 0
        items = list(shares.items())
        for dest, share in items[:-1]:
            part = math.floor(cash_minor * share)
            self.flight_minor[dest] += part
            allotted += part
        self.flight_minor[items[-1][0]] += cash_minor - allotted

    @property
    def realised_loss_minor(self) -> int:
        """Par value given up minus dollars received, on what has been sold or redeemed."""
        return (
            self.sold_minor - self.sale_proceeds_minor
            + self.redeemed_minor - self.redemption_cash_minor
        )  # fmt: skip


def price_term(price: float, behaviour: BehaviourSpec) -> float:
    """Stress from the market price: linear in cents below par, steeper below the threshold."""
    below_par = max(0.0, 1.0 - price) * 100.0
    below_threshold = max(0.0, behaviour.run_threshold_price - price) * 100.0
    return (
        behaviour.slope_above_threshold * below_par
        + behaviour.accel_below_threshold * below_threshold
    )


class Sentiment:
    """Alarm from news: a global level plus extra alarm for targeted cohorts; fades by half-life."""

    def __init__(self, behaviour: BehaviourSpec, cohorts: int) -> None:
        self.half_life_s = behaviour.alarm_half_life_h * 3600.0
        self.global_alarm = 0.0
        self.targeted = [0.0] * cohorts
        self.backstop = False

    def add(self, amount: float, cohorts: list[int] | None = None) -> None:
        if cohorts is None:
            self.global_alarm += amount
        else:
            for i in cohorts:
                self.targeted[i] += amount

    def calm(self, share: float) -> None:
        keep = 1.0 - share
        self.global_alarm *= keep
        self.targeted = [a * keep for a in self.targeted]
        self.backstop = True

    def decay(self, dt_s: float) -> None:
        f = 0.5 ** (dt_s / self.half_life_s)
        self.global_alarm *= f
        if any(self.targeted):
            self.targeted = [a * f for a in self.targeted]

    def alarm_for(self, cohort: int) -> float:
        return self.global_alarm + self.targeted[cohort]
