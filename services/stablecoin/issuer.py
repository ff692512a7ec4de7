"""The issuer: token supply, mint and redeem at par, a redemption queue, gates, attestations.

Only direct counterparties deal with the issuer. A redemption request escrows its tokens at once
and joins a first-in, first-out queue; the queue is paid only while banks are open, up to an
operational capacity per hour and up to the cash the reserve waterfall can raise. Paying burns the
tokens and sends ``amount - fee`` dollars out of reserves; the fee stays in reserves as equity.
Minting is the mirror image: dollars in during bank hours, tokens out (less the mint fee).

Token identity (exact, integers):  ``supply = supply_start + minted - burned``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from services.stablecoin.calendar import BankCalendar
from services.stablecoin.curve import DAY_S
from services.stablecoin.reserves import CASH_LIKE, ReservePortfolio
from services.stablecoin.spec import IssuerSpec


@dataclass
class RedemptionRequest:
    owner: str  # "holder:<name>", "arb:<name>" or "api:<id>"
    amount_minor: int
    requested_at_s: float
    remaining_minor: int


@dataclass(frozen=True)
class Payout:
    owner: str
    tokens_burned_minor: int
    cash_paid_minor: int
    requested_at_s: float


class Issuer:
    """Supply, the queue and the rules; reserves are the portfolio's business."""

    def __init__(
        self, spec: IssuerSpec, portfolio: ReservePortfolio, calendar: BankCalendar
    ) -> None:
        self.spec = spec
        self.portfolio = portfolio
        self.calendar = calendar
        self.supply_start_minor = spec.supply_minor
        self.supply_minor = spec.supply_minor
        self.minted_minor = 0
        self.burned_minor = 0
        self.fees_minor = 0
        self.queue: deque[RedemptionRequest] = deque()
        self.queue_minor = 0  # tokens escrowed in the queue (kept in step with `queue`)
        self.requested_minor = 0
        self.suspended_until_s: float | None = 0.0 if not spec.redemption.suspended else math.inf
        self.paid_by_day: dict[int, int] = {}
        self.gated = False
        self.gated_steps = 0  # steps in which a gate held payouts back
        self.longest_wait_s = 0.0

    # ---- state

    def suspended(self, t_s: float) -> bool:
        return self.suspended_until_s is not None and t_s < self.suspended_until_s

    def accepting(self, t_s: float) -> bool:
        """Requests can be lodged (they are paid later, in bank hours)."""
        return not self.suspended(t_s)

    def coverage(self) -> float:
        return self.portfolio.mtm_minor / self.supply_minor if self.supply_minor else 1.0

    def worst_coverage(self) -> float:
        return self.portfolio.worst_case_minor() / self.supply_minor if self.supply_minor else 1.0

    def wait_days(self, t_s: float) -> float:
        """How long a request lodged now would wait to be paid (queue ahead included)."""
        start = t_s
        if self.suspended(t_s):
            until = self.suspended_until_s or t_s
            start = until if until != math.inf else t_s + 7 * DAY_S
        opens = self.calendar.next_open_s(start)
        hours = self.spec.bank_hours
        open_h_per_day = (hours.close.hour - hours.open.hour) + (
            hours.close.minute - hours.open.minute
        ) / 60
        queue_h = self.queue_minor / self.spec.redemption.capacity_per_hour_minor
        return (opens - t_s) / DAY_S + queue_h / max(1.0, open_h_per_day)

    # ---- redeem

    def request(self, owner: str, amount_minor: int, t_s: float) -> RedemptionRequest | None:
        if amount_minor <= 0 or not self.accepting(t_s):
            return None
        last = self.queue[-1] if self.queue else None
        if last is not None and last.owner == owner and last.remaining_minor == last.amount_minor:
            # The same owner again, nothing paid yet: one request (FIFO order is unchanged).
            last.amount_minor += amount_minor
            last.remaining_minor += amount_minor
            self.queue_minor += amount_minor
            self.requested_minor += amount_minor
            return last
        req = RedemptionRequest(owner, amount_minor, t_s, amount_minor)
        self.queue.append(req)
        self.queue_minor += amount_minor
        self.requested_minor += amount_minor
        return req

    def process(self, t_s: float, dt_s: float) -> list[Payout]:
        """Pay the queue for one step of bank hours; returns what each owner got."""
        red = self.spec.redemption
        self.gated = False
        if not self.queue or self.suspended(t_s) or not self.calendar.is_open(t_s):
            return []
        gate = red.gate
        if gate and gate.suspend_below_liquid_pct is not None:
            liquid = self.portfolio.liquid_minor(t_s, CASH_LIKE)
            if liquid < gate.suspend_below_liquid_pct / 100.0 * self.supply_minor:
                self.gated = True
                self.gated_steps += 1
                return []
        capacity = math.floor(red.capacity_per_hour_minor * dt_s / 3600.0)
        day = int(t_s // DAY_S)
        if gate and gate.max_per_day_pct_supply is not None:
            cap_day = math.floor(gate.max_per_day_pct_supply / 100.0 * self.supply_start_minor)
            room = cap_day - self.paid_by_day.get(day, 0)
            if room < capacity:
                self.gated = True
                self.gated_steps += 1
            capacity = min(capacity, max(0, room))
        waterfall = self.spec.liquidity.waterfall
        coverage = min(1.0, self.coverage())
        payouts: list[Payout] = []
        while self.queue and capacity > 0:
            req = self.queue[0]
            chunk = min(req.remaining_minor, capacity)
            fee = math.floor(chunk * red.fee_bps / 10_000.0)
            due = chunk - fee
            if not red.pays_par_when_insolvent and coverage < 1.0:
                due = math.floor(chunk * coverage) - fee
            cash = self.portfolio.pay(due, t_s, waterfall)
            burned = chunk if cash >= due else math.floor(chunk * cash / due) if due else 0
            if burned <= 0:
                break
            fee_kept = burned - cash  # par value burned minus cash paid stays in reserves
            self.fees_minor += max(0, fee_kept)
            req.remaining_minor -= burned
            self.queue_minor -= burned
            capacity -= burned
            self.supply_minor -= burned
            self.burned_minor += burned
            self.paid_by_day[day] = self.paid_by_day.get(day, 0) + burned
            payouts.append(Payout(req.owner, burned, cash, req.requested_at_s))
            if req.remaining_minor == 0:
                self.queue.popleft()
                self.longest_wait_s = max(self.longest_wait_s, t_s - req.requested_at_s)
            if cash < due:
                break  # no more cash can be raised this step
        return payouts

    # ---- mint

    def can_mint(self, t_s: float) -> bool:
        return self.spec.mint.enabled and self.calendar.is_open(t_s) and self.coverage() >= 1.0

    def mint(self, cash_minor: int, t_s: float) -> int:
        """Dollars in, tokens out (less the fee); returns tokens created."""
        if cash_minor < self.spec.mint.min_minor or not self.can_mint(t_s):
            return 0
        fee = math.floor(cash_minor * self.spec.mint.fee_bps / 10_000.0)
        tokens = cash_minor - fee
        self.portfolio.receive_cash(cash_minor)
        self.supply_minor += tokens
        self.minted_minor += tokens
        self.fees_minor += fee
        return tokens

    # ---- reports

    def attestation(self, t_s: float, start_at_iso: str) -> dict[str, object]:
        """An attestation-style snapshot: tokens outstanding against reserves by category."""
        p = self.portfolio
        mtm = p.mtm_minor
        return {
            "at_s": t_s,
            "as_of": start_at_iso,
            "tokens_outstanding_minor": self.supply_minor,
            "reserves_minor": mtm,
            "excess_minor": mtm - self.supply_minor,
            "coverage_ratio": round(mtm / self.supply_minor, 6) if self.supply_minor else None,
            "reserves_by_category_minor": p.by_category(),
            "frozen_deposits_minor": p.frozen_minor,
            "same_day_liquid_minor": p.liquid_minor(t_s, CASH_LIKE),
            "bill_wam_days": round(p.wam_days(t_s), 2),
            "redemption_queue_minor": self.queue_minor,
        }
