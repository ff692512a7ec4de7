"""The status quo beside every result: correspondent banking as an analytic model.

A cross-border wire travels a chain of banks. The payer's bank and every intermediary
forward instructions in an end-of-day batch at their local *cut-off*; an instruction that
arrives after the cut-off, or on a weekend or holiday, waits for the next business day.
The payee's bank credits during its banking hours, and never before the *value date*:
the payer's acceptance day plus T+N business days (T+1/T+2 are the norm for cross-border
wires; CPMI, "Cross-border retail payments", 2018; G20 roadmap baseline). Each leg (hop)
charges an ad valorem fee plus a fixed fee, and the FX conversion carries a margin over
the reference rate.

Default parameters and where they come from (all in the scenario, all overridable):

- ``hops``: 2 (payer bank -> USD/CNH clearing correspondent -> payee bank); ``CN-HK``: 1
  (direct CNH clearing through the Hong Kong RMB clearing bank). Assumption.
- Fees: for a US$200 remittance over 2 hops, 2 x (US$3.25 + 10 bp) + 300 bp FX margin
  = US$12.90 = 6.45% — calibrated to the World Bank Remittance Prices Worldwide global
  average of 6.49% for sending US$200 (Q1 2025). The split between fees and FX margin is
  an assumption. Trade: US$15 per hop + 30 bp FX margin (assumption: corporate pricing).
- ``cutoff`` 16:00 local at the payer's bank (jurisdiction setting); intermediary in New
  York, cut-off 17:00 (-05:00; CHIPS/Fedwire-style end of day; assumption, no DST).
- ``settlement_days``: trade T+2, retail and remittance T+1 (the G20 status-quo baseline
  "T+1/T+2"). Business days are counted on the payee's calendar.
- ``exception_rate`` 2% held for repair/compliance (+1 business day), ``return_rate``
  0.2% returned unpaid: assumptions of the order of magnitude reported for manual
  repair and investigations in cross-border wires; set to 0 to switch them off.

Simplifications, stated: fixed UTC offsets (no DST), each intermediary batches once a day
at its cut-off and forwards immediately, payee credit at arrival if the payee's bank is
open (else at its next opening), the value date counts the payer's acceptance date on the
payee's calendar, returns come back at the time the payment would have settled.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from corridor.scenario.calendars import BankingCalendar
from corridor.scenario.demand import PaymentBatch
from corridor.scenario.fees import fee_minor, usd_to_minor
from corridor.scenario.schema import KIND_NAMES, Scenario
from corridor.scenario.streams import STREAM_CORRESPONDENT, uniform_from_keys


class SettlementStatus(IntEnum):
    SETTLED = 0  # credited to the payee at settle_s
    DELAYED = 1  # held for repair/compliance, credited later at settle_s
    RETURNED = 2  # not paid: funds back with the payer at settle_s, fees lost


@dataclass(frozen=True)
class CorrespondentSettlement:
    """Per-payment outcome of the correspondent rail (arrays aligned with the batch)."""

    settle_s: NDArray[np.float64]  # seconds since start_at: payee credited (or funds returned)
    cost_usd_minor: NDArray[np.int64]  # fees + FX margin, US cents
    status: NDArray[np.int8]  # SettlementStatus
    hops: NDArray[np.int8]
    value_day: NDArray[np.int64]  # value date, days since 1970-01-01 (payee calendar)

    def elapsed_s(self, created_at_s: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.settle_s - created_at_s


class CorrespondentModel:
    """Vectorised correspondent-banking timing and cost for a batch of payments."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else int(seed)
        spec = scenario.rails.correspondent
        self.spec = spec
        self._calendars = [
            BankingCalendar(
                j.utc_offset_s, j.weekend, j.holidays, j.bank_open, j.bank_close, j.cutoff
            )
            for j in scenario.jurisdictions
        ]
        mid = spec.intermediary
        self._intermediary = BankingCalendar(
            mid.utc_offset * 60, mid.weekend, mid.holidays, cutoff_h=mid.cutoff
        )
        self.hops_by_corridor = np.array(
            [self._hops(c.code) for c in scenario.directed_corridors], dtype=np.int8
        )
        self._fixed_minor = np.array(
            [usd_to_minor(spec.fixed_fee_usd_per_hop[k]) for k in KIND_NAMES], dtype=np.int64
        )
        self._fx_margin_bps = np.array([spec.fx_margin_bps[k] for k in KIND_NAMES])
        self._settlement_days = np.array(
            [spec.settlement_days[k] for k in KIND_NAMES], dtype=np.int64
        )
        self._cross_currency = np.array(
            [
                scenario.jurisdictions[c.from_index].currency
                != scenario.jurisdictions[c.to_index].currency
                for c in scenario.directed_corridors
            ]
        )

    def _hops(self, code: str) -> int:
        a, b = code.split("-")
        table = self.spec.hops_by_corridor
        return table.get(code, table.get(f"{b}-{a}", self.spec.hops))

    # ---- public API

    def quote(self, batch: PaymentBatch) -> CorrespondentSettlement:
        """Expected outcome if nothing goes wrong: what a payer is told (all SETTLED)."""
        return self._run(batch, with_exceptions=False)

    def settle(self, batch: PaymentBatch) -> CorrespondentSettlement:
        """The outcome, with seeded repair holds and returns (deterministic per payment)."""
        return self._run(batch, with_exceptions=True)

    def cost_usd_minor(self, batch: PaymentBatch) -> NDArray[np.int64]:
        """Fees on every hop plus the FX margin, in US cents (integer, half-up per component)."""
        hops = self.hops_by_corridor[batch.corridor].astype(np.int64)
        kind = batch.kind.astype(np.int64)
        per_hop = (
            fee_minor(batch.amount_usd_minor, self.spec.fee_bps_per_hop) + self._fixed_minor[kind]
        )
        fx_bps = np.where(self._cross_currency[batch.corridor], self._fx_margin_bps[kind], 0.0)
        return hops * per_hop + fee_minor(batch.amount_usd_minor, fx_bps)

    # ---- the timing model

    def _run(self, batch: PaymentBatch, with_exceptions: bool) -> CorrespondentSettlement:
        n = len(batch)
        start = self.scenario.start_epoch_s
        t = batch.created_at_s + start
        hops = self.hops_by_corridor[batch.corridor].astype(np.int64)
        from_j = batch.from_j.astype(np.int64)
        to_j = batch.to_j.astype(np.int64)
        kind = batch.kind.astype(np.int64)

        # Leg 1: the payer's bank accepts (same day if before its cut-off) and forwards at cut-off.
        accept0 = np.empty(n, dtype=np.int64)
        forward = np.empty(n, dtype=np.float64)
        for j, cal in enumerate(self._calendars):
            m = from_j == j
            if m.any():
                accept0[m] = cal.accept_day(t[m])
                forward[m] = cal.day_start_epoch(accept0[m]) + cal.cutoff_s
        # Further legs: each intermediary batches at its own cut-off.
        mid = self._intermediary
        for leg in range(1, int(hops.max(initial=1))):
            m = hops > leg
            if m.any():
                day = mid.accept_day(forward[m])
                forward[m] = mid.day_start_epoch(day) + mid.cutoff_s
        # Payee's bank: credit when open, never before the value date T+N.
        settle = np.empty(n, dtype=np.float64)
        value_day = np.empty(n, dtype=np.int64)
        for j, cal in enumerate(self._calendars):
            m = to_j == j
            if m.any():
                value_day[m] = cal.roll_forward(accept0[m], self._settlement_days[kind[m]])
                value_open = cal.day_start_epoch(value_day[m]) + cal.open_s
                settle[m] = np.maximum(cal.next_open(forward[m]), value_open)

        status = np.zeros(n, dtype=np.int8)
        if with_exceptions and n:
            settle, status = self._exceptions(batch, settle, to_j)
        return CorrespondentSettlement(
            settle_s=settle - start,
            cost_usd_minor=self.cost_usd_minor(batch),
            status=status,
            hops=hops.astype(np.int8),
            value_day=value_day,
        )

    def _exceptions(
        self, batch: PaymentBatch, settle: NDArray[np.float64], to_j: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
        """Repair holds and returns: a seeded draw per payment id, so any chunking agrees."""
        spec = self.spec
        u = uniform_from_keys(self.seed, STREAM_CORRESPONDENT, batch.payment_id)
        held = u < spec.exception_rate
        returned = (u >= spec.exception_rate) & (u < spec.exception_rate + spec.return_rate)
        late = held | returned
        status = np.where(held, SettlementStatus.DELAYED, SettlementStatus.SETTLED).astype(np.int8)
        status[returned] = SettlementStatus.RETURNED
        settle = settle.copy()
        for j, cal in enumerate(self._calendars):
            m = late & (to_j == j)
            if m.any():
                day = cal.local_day(settle[m])
                shift = cal.roll_forward(day, spec.exception_delay_days) - day
                settle[m] = settle[m] + shift * 86_400.0
        return settle, status
