"""Which rail a payment takes: a seeded multinomial logit that shifts under stress.

For each payment and each rail r the payer weighs

    U_r = asc_r + asc_by_kind[kind]_r
          + cost_per_pct * (total cost as % of the amount)
          + time_per_log_hour * ln(1 + hours until the payee is credited)
          + unavailable * [rail closed now]      (outside bank hours; the wait is in the time too)
          + news_r * flight-to-safety intensity                    (stress)
          + peg_discount_per_pct * (stablecoin discount in %)      (stablecoin only)

and picks r with probability exp(U_r) / sum exp(U_s) over the rails it can use: a rail
that is down (a scheduled outage, or marked unavailable by the engine) is no option, and a
payment with no option left gets rail -1 (NO_RAIL: it cannot be sent now). Access is
a property of the payer wallet (a seeded hash, so the same wallet keeps or lacks CBDC or
stablecoin access all run long); correspondent banking is the fallback every payer has.

The stablecoin's cost includes its secondary-market discount (the payee sells tokens
below par), so a depeg raises its cost directly *and* through fear; the engine sets that
state each step from the stablecoin model (``RailStress``). The scenario's stress
schedule supplies flight-to-safety news; the engine's ``RailStress.news`` is combined
with it by taking the larger. The choice draw is a uniform keyed by (seed, payment id):
chunking does not change choices, and re-running a payment under another stress state
re-uses the same draw (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from corridor.scenario.calendars import BankingCalendar
from corridor.scenario.correspondent import CorrespondentModel
from corridor.scenario.demand import PaymentBatch
from corridor.scenario.fees import fee_minor, usd_to_minor
from corridor.scenario.schema import KIND_NAMES, RAIL_NAMES, Scenario
from corridor.scenario.streams import STREAM_ACCESS, STREAM_RAIL_CHOICE, uniform_from_keys
from corridor.scenario.stress import StressSchedule

NO_RAIL = -1  # no rail can take the payment right now


class Rail(IntEnum):
    CBDC = 0
    STABLECOIN = 1
    CORRESPONDENT = 2


@dataclass(frozen=True)
class RailStress:
    """Rail conditions the engine sets each step (from the stablecoin model and events).

    peg_discount: 1 - the stablecoin's secondary-market price (0.12 = trading at 0.88).
    news: flight-to-safety intensity in [0, 1]; combined with the schedule by max.
    stablecoin_available / cbdc_available: false while a rail cannot take payments.
    stablecoin_network_fee_usd_minor: the chain's current fee (fee market), US cents;
        None keeps the scenario's quiet-market fee.
    stablecoin_extra_delay_s: extra time to the payee (ramp queues, redemption pauses).
    """

    peg_discount: float = 0.0
    news: float = 0.0
    stablecoin_available: bool = True
    cbdc_available: bool = True
    stablecoin_network_fee_usd_minor: int | None = None
    stablecoin_extra_delay_s: float = 0.0


@dataclass(frozen=True)
class RailQuotes:
    """What each rail would cost and take for each payment; columns in Rail order."""

    cost_usd_minor: NDArray[np.int64]  # (n, 3)
    time_s: NDArray[np.float64]  # (n, 3) initiation to payee credit
    open_now: NDArray[np.bool_]  # (n, 3) open at created_at (else time_s includes the wait)
    up: NDArray[np.bool_]  # (n, 3) not down (outage, or the engine marked it unavailable)
    access: NDArray[np.bool_]  # (n, 3) the payer's wallet can use the rail at all

    def cost_pct(self, amount_usd_minor: NDArray[np.int64]) -> NDArray[np.float64]:
        return 100.0 * self.cost_usd_minor / np.maximum(amount_usd_minor, 1)[:, None]


@dataclass(frozen=True)
class RailDecision:
    rail: NDArray[np.int8]  # Rail per payment, NO_RAIL (-1) when every option is down
    probability: NDArray[np.float64]  # (n, 3) choice probabilities
    quotes: RailQuotes
    news: NDArray[np.float64]  # flight-to-safety intensity each payment saw

    def shares(self) -> dict[str, float]:
        """Share of payments by rail name (counts); ``none`` for payments with no rail."""
        n = max(len(self.rail), 1)
        out: dict[str, float] = {
            name: float((self.rail == i).sum() / n) for i, name in enumerate(RAIL_NAMES)
        }
        none = float((self.rail == NO_RAIL).sum() / n)
        return {**out, "none": none} if none else out


class RailChoice:
    """Vectorised rail choice for batches of payments."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        correspondent: CorrespondentModel | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else int(seed)
        self.correspondent = correspondent or CorrespondentModel(scenario, self.seed)
        self.schedule = StressSchedule(scenario)
        spec = scenario.rail_choice
        self.spec = spec
        self._asc = np.array(
            [
                [spec.asc[r] + spec.asc_by_kind.get(k, {}).get(r, 0.0) for r in RAIL_NAMES]
                for k in KIND_NAMES
            ]
        )  # (kind, rail)
        self._news_weight = np.array([spec.stress.news.get(r, 0.0) for r in RAIL_NAMES])
        self._access = np.array([spec.access[r] for r in RAIL_NAMES])
        self._enabled = np.array([getattr(scenario.rails, r).enabled for r in RAIL_NAMES])
        self._calendars = [
            BankingCalendar(
                j.utc_offset_s, j.weekend, j.holidays, j.bank_open, j.bank_close, j.cutoff
            )
            for j in scenario.jurisdictions
        ]
        rails = scenario.rails
        self._cbdc_fixed = usd_to_minor(rails.cbdc.fixed_fee_usd)
        self._stable_fee = usd_to_minor(rails.stablecoin.network_fee_usd)

    # ---- quotes

    def quote(self, batch: PaymentBatch, stress: RailStress = RailStress()) -> RailQuotes:
        n = len(batch)
        rails = self.scenario.rails
        amount = batch.amount_usd_minor
        t = batch.created_at_s
        cost = np.empty((n, 3), dtype=np.int64)
        time_s = np.empty((n, 3))
        cost[:, Rail.CBDC] = (
            fee_minor(amount, rails.cbdc.fee_bps + rails.cbdc.fx_spread_bps) + self._cbdc_fixed
        )
        time_s[:, Rail.CBDC] = rails.cbdc.settle_s
        network_fee = (
            self._stable_fee
            if stress.stablecoin_network_fee_usd_minor is None
            else int(stress.stablecoin_network_fee_usd_minor)
        )
        ramp_bps = rails.stablecoin.on_ramp_bps + rails.stablecoin.off_ramp_bps
        cost[:, Rail.STABLECOIN] = (
            fee_minor(amount, ramp_bps + 10_000.0 * stress.peg_discount) + network_fee
        )
        time_s[:, Rail.STABLECOIN] = (
            rails.stablecoin.finality_s + rails.stablecoin.ramp_s + stress.stablecoin_extra_delay_s
        )
        corr = self.correspondent.quote(batch)
        cost[:, Rail.CORRESPONDENT] = corr.cost_usd_minor
        time_s[:, Rail.CORRESPONDENT] = corr.settle_s - t

        # Closed for the night or the weekend: the payer waits for the opening (soft).
        open_now = np.ones((n, 3), dtype=bool)
        for rail, spec_24_7 in ((Rail.CBDC, rails.cbdc.available_24_7),
                                (Rail.STABLECOIN, rails.stablecoin.ramps_24_7)):  # fmt: skip
            if not spec_24_7:
                wait = self._wait_for_payer_bank(batch)
                open_now[:, rail] = wait == 0
                time_s[:, rail] += wait
        # Down (an outage, or the engine says the rail cannot take payments): not an option.
        up = np.ones((n, 3), dtype=bool)
        up[:, Rail.CBDC] &= stress.cbdc_available
        up[:, Rail.STABLECOIN] &= stress.stablecoin_available
        for r, name in enumerate(RAIL_NAMES):
            up[:, r] &= ~self.schedule.rail_down(t, name)
        return RailQuotes(cost, time_s, open_now, up, self._payer_access(batch, stress, t))

    def _wait_for_payer_bank(self, batch: PaymentBatch) -> NDArray[np.float64]:
        """Seconds until the payer's banks next open (0 while open)."""
        epoch = batch.created_at_s + self.scenario.start_epoch_s
        wait = np.zeros(len(batch))
        for j, cal in enumerate(self._calendars):
            m = batch.from_j == j
            if m.any():
                wait[m] = cal.next_open(epoch[m]) - epoch[m]
        return wait

    def _payer_access(
        self, batch: PaymentBatch, stress: RailStress, t: NDArray[np.float64]
    ) -> NDArray[np.bool_]:
        # A wallet's access is a fixed property: the same uniform per (wallet, rail) all run.
        news = self._news(t, stress)
        access = np.empty((len(batch), 3), dtype=bool)
        for r in range(3):
            u = uniform_from_keys(self.seed, STREAM_ACCESS, batch.from_j, batch.payer, r)
            level = self._access[r] + (
                self.spec.stress.cbdc_access_boost * news if r == Rail.CBDC else 0.0
            )
            access[:, r] = (u < level) & self._enabled[r]
        # Correspondent banking is everyone's fallback while it is enabled.
        access[:, Rail.CORRESPONDENT] |= self._enabled[Rail.CORRESPONDENT] & ~access.any(axis=1)
        return access

    def _news(self, t: NDArray[np.float64], stress: RailStress) -> NDArray[np.float64]:
        return np.maximum(self.schedule.flight_to_safety(t), stress.news)

    # ---- choice

    def utilities(
        self, batch: PaymentBatch, quotes: RailQuotes, stress: RailStress = RailStress()
    ) -> NDArray[np.float64]:
        """Systematic utility per (payment, rail); -inf where the rail is down or the payer
        has no access to it."""
        spec = self.spec
        hours = np.maximum(quotes.time_s, 0.0) / 3600.0
        u = (
            self._asc[batch.kind.astype(np.int64)]
            + spec.cost_per_pct * quotes.cost_pct(batch.amount_usd_minor)
            + spec.time_per_log_hour * np.log1p(hours)
            + spec.unavailable * ~quotes.open_now
        )
        news = self._news(batch.created_at_s, stress)
        u += news[:, None] * self._news_weight[None, :]
        u[:, Rail.STABLECOIN] += spec.stress.peg_discount_per_pct * 100.0 * stress.peg_discount
        return np.where(quotes.access & quotes.up, u, -np.inf)

    def choose(self, batch: PaymentBatch, stress: RailStress = RailStress()) -> RailDecision:
        """Pick a rail per payment (seeded, deterministic per payment id)."""
        quotes = self.quote(batch, stress)
        u = self.utilities(batch, quotes, stress)
        u_max = np.max(u, axis=1, keepdims=True)
        u_max = np.where(np.isfinite(u_max), u_max, 0.0)
        weight = np.exp(u - u_max)
        total = weight.sum(axis=1, keepdims=True)
        prob = weight / np.where(total > 0, total, 1.0)
        draw = uniform_from_keys(self.seed, STREAM_RAIL_CHOICE, batch.payment_id)
        cum = np.cumsum(prob, axis=1)
        rail = (draw > cum[:, 0]).astype(np.int8) + (draw > cum[:, 1]).astype(np.int8)
        # Guard rounding at the top end: never choose a rail with zero probability.
        rail = np.where(prob[np.arange(len(rail)), rail] > 0, rail, np.argmax(prob, axis=1))
        rail = np.where(total[:, 0] > 0, rail, NO_RAIL).astype(np.int8)
        return RailDecision(rail, prob, quotes, self._news(batch.created_at_s, stress))
