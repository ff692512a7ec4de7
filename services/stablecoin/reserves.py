"""The issuer's reserve portfolio: instruments marked to market, a liquidity waterfall, fire sales.

Every position keeps an integer mark (US cents). The portfolio's value changes for only four
reasons, each booked to its own integer account so the identity below holds to the cent:

    mtm_now = mtm_start + revaluations + cash_in - cash_out - fire_sale_costs

- *revaluations* by cause: ``time`` (bills pulling to par, repo/MMF interest), ``yield_shift``,
  ``fire_sale_yield_impact`` (BIS WP 1270 feedback on the bills still held), ``asset_crash``,
  ``fire_sale_price_impact`` (a risky asset's price pushed down by our own selling),
  ``bank_failure`` (frozen deposits marked at expected recovery), ``backstop``, ``assumed_haircut``;
- *cash in* from mints, *cash out* to redemptions;
- *fire-sale costs*: book value of what was sold minus the cash it fetched (bid-ask, impact).

Paying a redemption walks the waterfall (deposits, money funds, repo, bills shortest first,
notes, then risky assets within their market depth and liquidation speed) until the cash is
found, and only while banks are open. Selling bills pushes short yields up (the fire-sale
feedback); beyond the flow sizes the estimate was made on, that is an extrapolation, flagged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from services.stablecoin.curve import DAY_S, YEAR_DAYS, YieldCurve, bill_price, note_price
from services.stablecoin.spec import (
    DepositSpec,
    FireSaleSpec,
    MmfSpec,
    NoteSpec,
    RepoSpec,
    ReservesSpec,
    RiskyAssetSpec,
    TBillLadderSpec,
    TBillSpec,
)

CASH_LIKE = ("deposit", "mmf", "repo")
CATEGORY = {
    "tbill": "treasury_bills",
    "note": "treasury_notes",
    "repo": "overnight_repo",
    "mmf": "government_mmf",
    "deposit": "bank_deposits",
    "bitcoin": "bitcoin",
    "gold": "gold",
    "secured_loans": "secured_loans",
    "commercial_paper": "commercial_paper",
    "corporate_bonds": "corporate_bonds",
    "other": "other",
}


class ReserveAsset:
    """One position. Subclasses know how to price it and how to turn it into cash."""

    __slots__ = ("haircut", "kind", "mark_minor", "name", "sale_cost_bps")

    def __init__(self, name: str, kind: str, sale_cost_bps: float) -> None:
        self.name = name
        self.kind = kind
        self.mark_minor = 0
        self.haircut = 1.0  # an assumed haircut (the seed's 12 %) multiplies every mark
        self.sale_cost_bps = sale_cost_bps

    @property
    def category(self) -> str:
        return CATEGORY[self.kind]

    def value(self, curve: YieldCurve, t_s: float) -> int:
        raise NotImplementedError

    def accrue(self, dt_s: float) -> None:
        """Interest for ``dt_s`` (repo, money funds); bills accrue through their price."""

    def cash_available(self, t_s: float) -> int:
        """Cash this position can yield now (at its current mark, before sale costs)."""
        return self.mark_minor

    def raise_cash(self, need_minor: int, curve: YieldCurve, t_s: float, extra_bp: float) -> int:
        """Give up to ``need_minor`` of cash (proceeds); the caller re-marks and books the cost."""
        raise NotImplementedError


class Bill(ReserveAsset):
    __slots__ = ("face_minor", "maturity_s")

    def __init__(self, name: str, face_minor: int, maturity_s: float, sale_cost_bps: float) -> None:
        super().__init__(name, "tbill", sale_cost_bps)
        self.face_minor = face_minor
        self.maturity_s = maturity_s

    def days_left(self, t_s: float) -> float:
        return max(0.0, (self.maturity_s - t_s) / DAY_S)

    def price(self, curve: YieldCurve, t_s: float, extra_bp: float = 0.0) -> float:
        days = self.days_left(t_s)
        return bill_price(curve.yield_at(days, extra_bp), days) * self.haircut

    def value(self, curve: YieldCurve, t_s: float) -> int:
        return round(self.face_minor * self.price(curve, t_s))

    def raise_cash(self, need_minor: int, curve: YieldCurve, t_s: float, extra_bp: float) -> int:
        net = self.price(curve, t_s, extra_bp) * (1.0 - self.sale_cost_bps / 10_000.0)
        if net <= 0:
            return 0
        face = min(self.face_minor, math.ceil(need_minor / net))
        self.face_minor -= face
        return min(need_minor, math.floor(face * net))


class Note(ReserveAsset):
    __slots__ = ("coupon_dec", "face_minor", "maturity_s")

    def __init__(self, spec: NoteSpec, name: str) -> None:
        super().__init__(name, "note", spec.sale_cost_bps)
        self.face_minor = spec.face_minor
        self.coupon_dec = spec.coupon_pct / 100.0
        self.maturity_s = spec.maturity_years * YEAR_DAYS * DAY_S

    def price(self, curve: YieldCurve, t_s: float, extra_bp: float = 0.0) -> float:
        days = max(0.0, (self.maturity_s - t_s) / DAY_S)
        y = curve.yield_at(days, extra_bp)
        return note_price(y, self.coupon_dec, days / YEAR_DAYS) * self.haircut

    def value(self, curve: YieldCurve, t_s: float) -> int:
        return round(self.face_minor * self.price(curve, t_s))

    def raise_cash(self, need_minor: int, curve: YieldCurve, t_s: float, extra_bp: float) -> int:
        net = self.price(curve, t_s, extra_bp) * (1.0 - self.sale_cost_bps / 10_000.0)
        if net <= 0:
            return 0
        face = min(self.face_minor, math.ceil(need_minor / net))
        self.face_minor -= face
        return min(need_minor, math.floor(face * net))


class CashLike(ReserveAsset):
    """Repo and money-fund shares: a balance that earns interest and pays out at par."""

    __slots__ = ("_carry", "balance_minor", "rate_dec", "same_day_share")

    def __init__(self, name: str, kind: str, balance: int, rate_pct: float, same_day_pct: float,
                 sale_cost_bps: float) -> None:  # fmt: skip
        super().__init__(name, kind, sale_cost_bps)
        self.balance_minor = balance
        self.rate_dec = rate_pct / 100.0
        self._carry = 0.0
        self.same_day_share = same_day_pct / 100.0

    def value(self, curve: YieldCurve, t_s: float) -> int:
        return round(self.balance_minor * self.haircut)

    def accrue(self, dt_s: float) -> None:
        self._carry += self.balance_minor * self.rate_dec * dt_s / (YEAR_DAYS * DAY_S)
        whole = math.floor(self._carry)
        if whole:
            self.balance_minor += whole
            self._carry -= whole

    def cash_available(self, t_s: float) -> int:
        return math.floor(self.balance_minor * self.haircut * self.same_day_share)

    def raise_cash(self, need_minor: int, curve: YieldCurve, t_s: float, extra_bp: float) -> int:
        cash = min(need_minor, self.cash_available(t_s))
        self.balance_minor -= math.ceil(cash / self.haircut) if self.haircut != 1.0 else cash
        self.balance_minor = max(0, self.balance_minor)
        return cash


class Deposit(ReserveAsset):
    """Cash at a named bank; a failure freezes part of it, marked at the expected recovery."""

    __slots__ = ("balance_minor", "bank", "frozen_minor", "guaranteed", "recovery", "unfreeze_at_s")

    def __init__(self, name: str, bank: str, balance: int) -> None:
        super().__init__(name, "deposit", 0.0)
        self.bank = bank
        self.balance_minor = balance
        self.frozen_minor = 0
        self.recovery = 1.0
        self.unfreeze_at_s: float | None = None
        self.guaranteed = False  # a backstop made the frozen part whole

    def value(self, curve: YieldCurve, t_s: float) -> int:
        free = self.balance_minor - self.frozen_minor
        return round((free + self.frozen_minor * self.recovery) * self.haircut)

    def cash_available(self, t_s: float) -> int:
        return math.floor((self.balance_minor - self.frozen_minor) * self.haircut)

    def raise_cash(self, need_minor: int, curve: YieldCurve, t_s: float, extra_bp: float) -> int:
        cash = min(need_minor, self.cash_available(t_s))
        self.balance_minor -= cash if self.haircut == 1.0 else math.ceil(cash / self.haircut)
        return cash


class RiskyAsset(ReserveAsset):
    """Bitcoin, gold, loans, paper: a price index, a finite daily market, a liquidation speed."""

    __slots__ = (
        "depth_per_day",
        "impact",
        "max_per_day",
        "price_index",
        "sold_day",
        "sold_today",
        "units",
    )  # fmt: skip

    def __init__(self, spec: RiskyAssetSpec, name: str) -> None:
        super().__init__(name, spec.kind, spec.sale_cost_bps)
        self.units = float(spec.value_minor)  # 1 unit = 1 cent at the start price
        self.price_index = 1.0
        self.depth_per_day = float(spec.market_depth_per_day_minor)
        self.impact = spec.impact_pct_at_depth / 100.0
        self.max_per_day = spec.value_minor / spec.liquidation_days
        self.sold_day = -1
        self.sold_today = 0.0

    def value(self, curve: YieldCurve, t_s: float) -> int:
        return round(self.units * self.price_index * self.haircut)

    def _room_today(self, t_s: float) -> float:
        day = int(t_s // DAY_S)
        if day != self.sold_day:
            self.sold_day, self.sold_today = day, 0.0
        return max(0.0, self.max_per_day - self.sold_today)

    def cash_available(self, t_s: float) -> int:
        price = self.price_index * self.haircut
        return math.floor(min(self.units * price, self._room_today(t_s)))

    def raise_cash(self, need_minor: int, curve: YieldCurve, t_s: float, extra_bp: float) -> int:
        price = self.price_index * self.haircut
        book = min(float(need_minor), self.units * price, self._room_today(t_s))
        if book <= 0:
            return 0
        # Linear impact: selling a day's depth moves the price by `impact`; the sale fills at the
        # average of the pre- and post-trade prices, and the move stays (marks the rest down).
        move = min(0.99, self.impact * book / self.depth_per_day)
        fill = price * (1.0 - move / 2.0) * (1.0 - self.sale_cost_bps / 10_000.0)
        units_sold = min(self.units, book / price)
        self.units -= units_sold
        self.price_index *= 1.0 - move
        self.sold_today += book
        return min(need_minor, math.floor(units_sold * fill))


@dataclass
class FireSaleRecord:
    at_s: float
    kind: str
    proceeds_minor: int
    cost_minor: int
    yield_impact_bp: float


class ReservePortfolio:
    """All reserve positions, their marks, and the books that make value conservation checkable."""

    def __init__(self, spec: ReservesSpec, settlement_bank: str, start_mtm_note: str = "") -> None:
        fs: FireSaleSpec = spec.fire_sale
        self.curve = YieldCurve(
            spec.curve.points(),
            impact_half_life_s=fs.half_life_days * DAY_S,
            impact_full_days=fs.full_impact_days,
            impact_tenor_max_days=fs.impact_tenor_max_days,
        )
        self.fire_sale_spec = fs
        self.assets: list[ReserveAsset] = []
        for i, inst in enumerate(spec.instruments):
            self.assets.extend(self._build(inst, i))
        banks = [a for a in self.assets if isinstance(a, Deposit)]
        self.settlement = next(a for a in banks if a.bank == settlement_bank)
        self.t_s = 0.0
        for a in self.assets:
            a.mark_minor = a.value(self.curve, 0.0)
        self._mtm = sum(a.mark_minor for a in self.assets)  # kept equal to the sum of marks
        self._last_remark_s = 0.0
        self.remark_interval_s = 3600.0
        self.mtm_start_minor = self._mtm
        self.revaluation_minor: dict[str, int] = defaultdict(int)
        self.cash_in_minor = 0
        self.cash_out_minor = 0
        self.fire_sale_cost_minor = 0
        self.fire_sale_proceeds_minor = 0
        self.fire_sale_by_kind: dict[str, int] = defaultdict(int)
        self.fire_sales: list[FireSaleRecord] = []
        self.bill_sales_window: list[tuple[float, int]] = []  # (t_s, proceeds) for extrapolation
        self.max_window_bill_sales_minor = 0
        self._curve_version = self.curve.version
        self.next_unfreeze_s: float | None = None  # when a guaranteed deposit is released

    # ---- construction

    def _build(self, inst: object, index: int) -> list[ReserveAsset]:
        if isinstance(inst, TBillSpec):
            return [Bill(inst.name or f"bill-{index}", inst.face_minor,
                         inst.maturity_days * DAY_S, inst.sale_cost_bps)]  # fmt: skip
        if isinstance(inst, TBillLadderSpec):
            out: list[ReserveAsset] = []
            for k in range(inst.rungs):
                frac = k / (inst.rungs - 1) if inst.rungs > 1 else 0.5
                days = inst.min_days + (inst.max_days - inst.min_days) * frac
                price = bill_price(self.curve.yield_at(days), days)
                face = round(inst.value_minor / inst.rungs / price)
                name = f"{inst.name or 'bills'} {days:.0f}d"
                out.append(Bill(name, face, days * DAY_S, inst.sale_cost_bps))
            return out
        if isinstance(inst, NoteSpec):
            return [Note(inst, inst.name or f"note-{index}")]
        if isinstance(inst, RepoSpec):
            return [CashLike(inst.name or "overnight repo", "repo", inst.value_minor, inst.rate_pct,
                             100.0, inst.sale_cost_bps)]  # fmt: skip
        if isinstance(inst, MmfSpec):
            return [CashLike(inst.name or inst.fund, "mmf", inst.value_minor, inst.yield_pct,
                             inst.same_day_pct, inst.sale_cost_bps)]  # fmt: skip
        if isinstance(inst, DepositSpec):
            return [Deposit(inst.name or f"deposits at {inst.bank}", inst.bank, inst.value_minor)]
        if isinstance(inst, RiskyAssetSpec):
            return [RiskyAsset(inst, inst.name or inst.kind)]
        raise TypeError(f"unknown instrument {inst!r}")

    # ---- marks

    @property
    def mtm_minor(self) -> int:
        return self._mtm

    def _refresh(self, a: ReserveAsset, t_s: float, cause: str = "time") -> None:
        """Bring one position's mark up to date before it trades."""
        new = a.value(self.curve, t_s)
        if new != a.mark_minor:
            self.revaluation_minor[cause] += new - a.mark_minor
            self._mtm += new - a.mark_minor
            a.mark_minor = new

    def remark(self, t_s: float, cause: str) -> int:
        """Re-price every position at ``t_s``; book the change to ``cause``; return it."""
        self.t_s = t_s
        curve = self.curve
        delta = 0
        for a in self.assets:
            new = a.value(curve, t_s)
            delta += new - a.mark_minor
            a.mark_minor = new
        if delta:
            self.revaluation_minor[cause] += delta
            self._mtm += delta
        self._curve_version = curve.version
        self._last_remark_s = t_s
        return delta

    def advance(self, t_s: float, dt_s: float) -> None:
        """Time passes: interest accrues, the fire-sale impact fades, bills pull to par."""
        for a in self.assets:
            a.accrue(dt_s)
        self.curve.relax(dt_s)
        # Marks move slowly with time alone: re-mark hourly, or at once when the curve moved.
        if (
            self.curve.version != self._curve_version
            or t_s - self._last_remark_s >= self.remark_interval_s
        ):
            self.remark(t_s, "time")
        self._mature(t_s)

    def _mature(self, t_s: float) -> None:
        matured = [a for a in self.assets if isinstance(a, Bill) and a.maturity_s <= t_s]
        for bill in matured:
            # At maturity the mark is the face (price 1); the cash lands at the settlement bank.
            self._refresh(bill, t_s)
            cash = bill.mark_minor
            self.assets.remove(bill)
            self._mtm -= cash
            self._credit_settlement(cash, t_s)

    # ---- cash

    def liquid_minor(self, t_s: float, kinds: tuple[str, ...] = CASH_LIKE) -> int:
        return sum(a.cash_available(t_s) for a in self.assets if a.kind in kinds)

    def receive_cash(self, amount_minor: int) -> None:
        """Dollars in (a mint): credited to the settlement bank."""
        self._credit_settlement(amount_minor, self.t_s)
        self.cash_in_minor += amount_minor

    def _credit_settlement(self, cash: int, t_s: float) -> None:
        """Cash lands at the settlement bank; any mark difference (an assumed haircut on deposits)
        is a revaluation, so the value identity still holds to the cent."""
        bank = self.settlement
        bank.balance_minor += cash
        new = bank.value(self.curve, t_s)
        if new - bank.mark_minor - cash:
            self.revaluation_minor["assumed_haircut"] += new - bank.mark_minor - cash
        self._mtm += new - bank.mark_minor
        bank.mark_minor = new

    def pay(self, amount_minor: int, t_s: float, waterfall: list[str]) -> int:
        """Find up to ``amount_minor`` of cash and pay it out; returns what was paid.

        Walks the waterfall kind by kind. Cash-like positions pay at their mark; anything else is
        a sale whose shortfall against its mark is a fire-sale cost. Bills are sold shortest
        first and move the short end of the curve (BIS WP 1270 yield feedback).
        """
        if amount_minor <= 0:
            return 0
        paid = 0
        for kind in waterfall:
            if paid >= amount_minor:
                break
            assets = [a for a in self.assets if a.kind == kind]
            if not assets:
                continue
            if kind == "tbill":
                paid += self._sell_bills(amount_minor - paid, t_s, assets)
                continue
            for a in assets:
                need = amount_minor - paid
                if need <= 0:
                    break
                paid += self._sell_one(a, need, t_s, 0.0)
        self.cash_out_minor += paid
        return paid

    def _sell_one(self, a: ReserveAsset, need: int, t_s: float, extra_bp: float) -> int:
        self._refresh(a, t_s)
        before = a.mark_minor
        cash = a.raise_cash(need, self.curve, t_s, extra_bp)
        after = a.value(self.curve, t_s)
        a.mark_minor = after
        self._mtm += after - before
        cost = (before - after) - cash
        if a.kind not in CASH_LIKE and cash > 0:
            self.fire_sale_proceeds_minor += cash
            self.fire_sale_by_kind[a.kind] += cash
        self.fire_sale_cost_minor += cost
        if isinstance(a, RiskyAsset) and cash > 0:
            # Our own selling moved the asset's price: the rest of it is marked down too.
            self.fire_sales.append(FireSaleRecord(t_s, a.kind, cash, cost, 0.0))
        return cash

    def _sell_bills(self, need: int, t_s: float, bills: list[ReserveAsset]) -> int:
        bills.sort(key=lambda b: b.maturity_s if isinstance(b, Bill) else 0.0)
        available = sum(b.mark_minor for b in bills)
        target = min(need, available)
        if target <= 0:
            return 0
        # The sale moves 3-month yields by k bp per $1B; it fills at the average of the
        # pre- and post-sale yield, and the post-sale level stays (decaying) for the bills kept.
        move_bp = self.fire_sale_spec.outflow_bp_per_billion * target / 100_000_000_000
        cash = 0
        for b in bills:
            if cash >= target:
                break
            cash += self._sell_one(b, target - cash, t_s, move_bp / 2.0)
        self.assets = [a for a in self.assets if not (isinstance(a, Bill) and a.face_minor <= 0)]
        self.curve.add_impact(move_bp)
        self.remark(t_s, "fire_sale_yield_impact")
        self.fire_sales.append(FireSaleRecord(t_s, "tbill", cash, 0, move_bp))
        self._track_window(t_s, cash)
        return cash

    def _track_window(self, t_s: float, cash: int) -> None:
        """Largest five-day bill sale total, to flag extrapolation beyond BIS WP 1270's flows."""
        self.bill_sales_window.append((t_s, cash))
        horizon = t_s - 5 * DAY_S
        self.bill_sales_window = [(t, c) for t, c in self.bill_sales_window if t > horizon]
        total = sum(c for _, c in self.bill_sales_window)
        self.max_window_bill_sales_minor = max(self.max_window_bill_sales_minor, total)

    @property
    def fire_sale_extrapolated(self) -> bool:
        return self.max_window_bill_sales_minor > self.fire_sale_spec.observed_flow_max_minor

    def reinvest(self, t_s: float, keep_minor: int, tenor_days: int) -> int:
        """Put settlement cash above ``keep_minor`` into a new bill; returns the amount invested."""
        spare = self.settlement.cash_available(t_s) - keep_minor
        if spare <= 100_000_00:  # not worth a trade below $100k
            return 0
        price = bill_price(self.curve.yield_at(tenor_days), tenor_days)
        face = math.floor(spare / price)
        bill = Bill(f"bill bought day {t_s / DAY_S:.0f}", face, t_s + tenor_days * DAY_S, 0.5)
        bill.mark_minor = bill.value(self.curve, t_s)
        cost = bill.mark_minor  # paid exactly its mark: no value created or lost
        self._credit_settlement(-cost, t_s)
        self.assets.append(bill)
        self._mtm += cost
        return cost

    # ---- shocks

    def shift_curve(self, bp_by_days: dict[float, float], t_s: float) -> int:
        self.curve.shift(bp_by_days)
        return self.remark(t_s, "yield_shift")

    def crash(self, asset: str, pct: float, t_s: float) -> int:
        for a in self.assets:
            if isinstance(a, RiskyAsset) and asset in (a.kind, a.name):
                a.price_index *= 1.0 - pct / 100.0
        return self.remark(t_s, "asset_crash")

    def fail_bank(self, bank: str, share: float, recovery: float, t_s: float) -> int:
        for a in self.deposits(bank):
            a.frozen_minor = round(a.balance_minor * share)
            a.recovery = recovery
        return self.remark(t_s, "bank_failure")

    def guarantee_bank(self, bank: str, unfreeze_at_s: float, t_s: float) -> int:
        for a in self.deposits(bank):
            a.recovery = 1.0
            a.unfreeze_at_s = unfreeze_at_s
            a.guaranteed = True
        self._update_next_unfreeze()
        return self.remark(t_s, "backstop")

    def release_frozen(self, t_s: float) -> None:
        for a in self.assets:
            if isinstance(a, Deposit) and a.unfreeze_at_s is not None and a.unfreeze_at_s <= t_s:
                a.frozen_minor = 0
                a.unfreeze_at_s = None
        self._update_next_unfreeze()
        self.remark(t_s, "backstop")

    def _update_next_unfreeze(self) -> None:
        times = [
            a.unfreeze_at_s for a in self.assets
            if isinstance(a, Deposit) and a.unfreeze_at_s is not None
        ]  # fmt: skip
        self.next_unfreeze_s = min(times) if times else None

    def apply_haircut(self, applies_to: list[str], pct: float, t_s: float) -> int:
        for a in self.assets:
            if a.kind in applies_to or a.name in applies_to:
                a.haircut *= 1.0 - pct / 100.0
        return self.remark(t_s, "assumed_haircut")

    def deposits(self, bank: str) -> list[Deposit]:
        return [a for a in self.assets if isinstance(a, Deposit) and a.bank == bank]

    # ---- reports

    @property
    def frozen_minor(self) -> int:
        return sum(a.frozen_minor for a in self.assets if isinstance(a, Deposit))

    def worst_case_minor(self) -> int:
        """Value if frozen, unguaranteed deposits return nothing (what a worried holder counts on)."""
        frozen_mark = sum(
            round(a.frozen_minor * a.recovery * a.haircut)
            for a in self.assets
            if isinstance(a, Deposit) and not a.guaranteed
        )
        return self.mtm_minor - frozen_mark

    def by_category(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for a in self.assets:
            out[a.category] += a.mark_minor
        return dict(out)

    def wam_days(self, t_s: float) -> float:
        bills = [a for a in self.assets if isinstance(a, Bill)]
        total = sum(b.mark_minor for b in bills)
        if not total:
            return 0.0
        return sum(b.mark_minor * b.days_left(t_s) for b in bills) / total

    def audit(self) -> dict[str, int]:
        """Both sides of the value identity; ``gap_minor`` must be 0."""
        reval = sum(self.revaluation_minor.values())
        expected = (
            self.mtm_start_minor + reval + self.cash_in_minor - self.cash_out_minor
            - self.fire_sale_cost_minor
        )  # fmt: skip
        return {
            "mtm_minor": self.mtm_minor,
            "mark_sum_gap_minor": self.mtm_minor - sum(a.mark_minor for a in self.assets),
            "mtm_start_minor": self.mtm_start_minor,
            "revaluation_minor": reval,
            "cash_in_minor": self.cash_in_minor,
            "cash_out_minor": self.cash_out_minor,
            "fire_sale_cost_minor": self.fire_sale_cost_minor,
            "gap_minor": self.mtm_minor - expected,
        }
