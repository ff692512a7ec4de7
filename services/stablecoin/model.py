"""The stablecoin world: issuer, reserves, chains, market, holders and ramps on one business clock.

``StablecoinWorld.from_spec(spec, seed, start_at)`` builds it; ``advance(to_s)`` steps it;
``submit_transfer`` carries a corridor payment over the rail; ``summary()`` and ``timeseries()``
report. One step (``spec.step_s``, 15 minutes by default) reads like the story::

    shocks fire -> reserves re-marked (time, yields, crashes, frozen banks) -> news fades ->
    holders decide who runs (price, news, herd) -> exits go to the issuer's queue or the market ->
    arbitrageurs buy what they value above the price, mint above par ->
    the issuer pays its queue in bank hours (fire-selling if cash runs out) -> chains produce blocks
    under the extra load -> one row of the time series

Every random draw comes from generators seeded by ``seed`` (holders' noise, and a separate stream
for transfers so corridor volume never changes the run itself); nothing reads the wall clock.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict, deque
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from services.stablecoin.calendar import BankCalendar
from services.stablecoin.chain import Chain
from services.stablecoin.curve import DAY_S, bill_loss_pct, note_loss_pct
from services.stablecoin.holders import HolderCohort, Sentiment, price_term
from services.stablecoin.issuer import Issuer, Payout
from services.stablecoin.market import ArbitrageContext, Arbitrageur, LiquidityVenue
from services.stablecoin.ramps import parse_corridor, ramp_leg
from services.stablecoin.reserves import CASH_LIKE, ReservePortfolio
from services.stablecoin.spec import (
    DEFAULT_ALARM,
    AssetCrashShock,
    AssumedHaircutShock,
    BackstopShock,
    BankFailureShock,
    ExchangeHaltShock,
    HolderSpec,
    NewsShock,
    RedemptionSuspensionShock,
    SpecError,
    StablecoinSpec,
    YieldShiftShock,
)

EM_TYPES = ("em_household", "em_firm", "bank", "central_bank")
SEED_CLAIM_PCT = 12.0

COLUMNS = (
    "t_s", "price", "min_venue_price", "supply_minor", "reserves_mtm_minor", "coverage",
    "redemptions_cum_pct", "requests_cum_pct", "queue_minor", "exits_minor", "alarm",
    "arb_inventory_minor", "arb_cash_minor", "liquid_minor", "frozen_minor", "yield_3m_pct",
    "yield_impact_bp", "bank_open", "migration_share",
)  # fmt: skip


@dataclass(frozen=True)
class TransferReceipt:
    """A corridor payment carried by the rail: what it cost and when it settled."""

    transfer_id: str
    corridor: str
    chain: str
    amount_minor: int  # US cents (the payment's USD value)
    currency: str
    submitted_at_s: float
    on_ramp_route: str
    off_ramp_route: str
    on_ramp_fee_minor: int
    capital_control_minor: int
    network_fee_minor: int
    off_ramp_fee_minor: int
    total_cost_minor: int
    cost_bps: float
    block_number: int
    included_at_s: float
    finality_at_s: float
    credited_at_s: float | None  # payee's local-currency credit; None if stuck
    settle_s: float | None
    status: str  # settled | delayed (an exchange halt held a ramp) | stuck (halt with no end)
    token_price: float
    depeg_exposure_minor: int  # value lost if the payee kept the tokens at today's price

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class StablecoinWorld:
    """One seeded run of the stablecoin rail."""

    def __init__(self, spec: StablecoinSpec, seed: int, start_at: datetime) -> None:
        self.spec = spec
        self.seed = seed
        self.start_at = start_at
        self.step_s = spec.step_s
        self.now_s = 0.0
        self._rng = random.Random(seed)
        self._transfer_rng = random.Random(f"{seed}:transfers")
        self._transfer_ids = itertools.count(1)
        hours = spec.issuer.bank_hours
        self.calendar = BankCalendar(
            start_at,
            timezone=hours.timezone,
            open_at=hours.open,
            close_at=hours.close,
            weekdays=frozenset(hours.weekdays),
            holidays=frozenset(hours.holidays),
        )
        self.portfolio = ReservePortfolio(spec.reserves, spec.issuer.liquidity.settlement_bank)
        self.issuer = Issuer(spec.issuer, self.portfolio, self.calendar)
        self.chains = {name: Chain(name, c) for name, c in spec.chains.items()}
        self.venues = [LiquidityVenue(v) for v in spec.market.venues]
        depth = sum(v.depth_minor for v in self.venues)
        self._venue_weights = [v.depth_minor / depth for v in self.venues]
        self.arbs = [Arbitrageur(a, cash_minor=a.capital_minor) for a in spec.market.arbitrageurs]
        self._arb_venues = [
            [v for v in self.venues if not a.venues or v.name in a.venues]
            for a in spec.market.arbitrageurs
        ]
        self.cohorts = self._build_cohorts()
        self.sentiment = Sentiment(spec.behaviour, len(self.cohorts))
        self.exchange_par = {e.name: e.par_conversion for e in spec.exchanges}
        self.halted_until: dict[str, float] = {}
        self._shocks = sorted(
            ((s.at_s(start_at), i, s) for i, s in enumerate(spec.shocks)), key=lambda x: x[:2]
        )
        self._next_shock = 0
        self.shock_log: list[dict[str, Any]] = []
        self.assumption_labels: list[dict[str, Any]] = []
        self._rows: list[tuple[Any, ...]] = []
        self._chain_rows: list[tuple[float, ...]] = []
        self.attestations: list[dict[str, Any]] = [self.issuer.attestation(0.0, self._iso(0.0))]
        self._herd: deque[int] = deque()
        self._herd_sum = 0
        self._herd_len = max(1, round(spec.behaviour.herd_window_h * 3600.0 / spec.step_s))
        self.burned_by_day: dict[int, int] = defaultdict(int)
        self.minted_by_day: dict[int, int] = defaultdict(int)
        self.requested_by_day: dict[int, int] = defaultdict(int)
        self.cbdc_by_day: dict[int, int] = defaultdict(int)
        self._initial_usd = self._usd_total()
        self.price = 1.0
        self._step_volume: dict[str, int] = defaultdict(int)
        self._chain_share = self._supply_share_by_chain()
        self.transfers_submitted = 0
        self.api_tokens_minor: dict[str, int] = {}  # tokens minted to API callers, by owner
        self.api_paid_minor: dict[str, int] = {}
        self.api_cash_in_minor = 0  # dollars API callers brought in to mint
        self.transfer_fee_minor_by_chain: dict[str, list[int]] = defaultdict(list)
        self._record(0.0, exits=0)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_spec(
        cls, spec: StablecoinSpec, seed: int = 1, start_at: datetime | None = None
    ) -> StablecoinWorld:
        """A fresh world at business time ``start_at`` (default: the spec's own start)."""
        start = start_at or spec.start_at
        if start.tzinfo is None:
            raise ValueError("start_at must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")
        return cls(spec, seed, start)

    def _build_cohorts(self) -> list[HolderCohort]:
        held = sum(h.balance_minor for h in self.spec.holders)
        in_venues = sum(v.token_minor for v in self.venues)
        rest = self.spec.issuer.supply_minor - held - in_venues
        if rest < 0:
            raise SpecError(
                "<spec>", "market.venues",
                f"venue liquidity needs {in_venues} token minor units but only "
                f"{self.spec.issuer.supply_minor - held} are not held by holders",
            )  # fmt: skip
        cohorts = [HolderCohort(h, h.balance_minor, h.balance_minor) for h in self.spec.holders]
        par = {e.name for e in self.spec.exchanges if e.par_conversion}
        if rest > 0:
            # Tokens neither in a cohort nor in a venue are held by people who never run.
            first = self.spec.holders[0]
            passive = HolderSpec.model_validate({
                "name": "other holders (passive)", "type": "institution", "jurisdiction": "US",
                "chain": first.chain, "balance_minor": rest, "run_share": 0.0, "hazard_per_h": 0.0,
            })  # fmt: skip
            cohorts.append(HolderCohort(passive, rest, rest))
        for i, c in enumerate(cohorts):
            c.owner = f"holder:{i}"
            c.par_exchange = c.spec.exchange if c.spec.exchange in par else None
        return cohorts

    def _supply_share_by_chain(self) -> dict[str, float]:
        totals: dict[str, int] = defaultdict(int)
        for c in self.cohorts:
            totals[c.spec.chain] += c.initial_minor
        whole = sum(totals.values()) or 1
        return {k: v / whole for k, v in totals.items()}

    def _iso(self, t_s: float) -> str:
        return (self.start_at + timedelta(seconds=t_s)).isoformat()

    # ------------------------------------------------------------------ the clock

    def advance(self, to_s: float) -> None:
        """Run every whole step that ends at or before ``to_s`` (seconds since start)."""
        if to_s < self.now_s:
            raise ValueError(f"to_s {to_s} is before the world's clock ({self.now_s})")
        while self.now_s + self.step_s <= to_s + 1e-9:
            self._step(self.now_s, self.now_s + self.step_s)

    def run(self, days: float | None = None) -> StablecoinWorld:
        self.advance((days if days is not None else self.spec.days) * DAY_S)
        return self

    def _step(self, t0: float, t1: float) -> None:
        dt = t1 - t0
        self._fire_shocks(t0, t1)
        self._release(t0)
        self.portfolio.advance(t0, dt if t0 > 0 else 0.0)
        self.sentiment.decay(dt)
        self._step_volume.clear()
        bank_open = self.calendar.is_open(t0)
        exits = self._holders_run(t0, dt)
        ctx = self._arbitrage_context(t0, bank_open)
        self._arbitrage(t0, dt, ctx, bank_open)
        self._settle(self.issuer.process(t0, dt), t0)
        self._maybe_reinvest(t0, bank_open)
        self._load_chains(dt)
        for chain in self.chains.values():
            chain.advance(t1)
        self.now_s = t1
        self.price = self.market_price()
        self._record(t1, exits)
        if int(t1 // DAY_S) != int(t0 // DAY_S):
            self.portfolio.remark(t1, "time")
            self.attestations.append(self.issuer.attestation(t1, self._iso(t1)))

    # ------------------------------------------------------------------ shocks

    def _fire_shocks(self, t0: float, t1: float) -> None:
        while self._next_shock < len(self._shocks) and self._shocks[self._next_shock][0] < t1:
            at_s, index, shock = self._shocks[self._next_shock]
            self._next_shock += 1
            self._apply_shock(max(at_s, t0), index, shock)

    def _apply_shock(self, t_s: float, index: int, shock: Any) -> None:
        p = self.portfolio
        p.remark(t_s, "time")  # so the shock's own revaluation is booked to it alone
        change = 0
        alarm = shock.alarm if shock.alarm is not None else DEFAULT_ALARM[shock.kind]
        targets: list[int] | None = None
        if isinstance(shock, YieldShiftShock):
            change = p.shift_curve(shock.shift_by_days(), t_s)
        elif isinstance(shock, AssetCrashShock):
            change = p.crash(shock.asset, shock.pct, t_s)
        elif isinstance(shock, BankFailureShock):
            change = p.fail_bank(shock.bank, shock.share, shock.expected_recovery, t_s)
        elif isinstance(shock, RedemptionSuspensionShock):
            self.issuer.suspended_until_s = (
                t_s + shock.duration_h * 3600.0 if shock.duration_h else math.inf
            )
        elif isinstance(shock, BackstopShock):
            unfreeze = self.calendar.next_open_s(t_s)
            for bank in shock.banks:
                change += p.guarantee_bank(bank, unfreeze, t_s)
            self.sentiment.calm(shock.calm)
            if shock.lift_suspension and self.issuer.suspended(t_s):
                self.issuer.suspended_until_s = t_s
        elif isinstance(shock, ExchangeHaltShock):
            end = t_s + shock.duration_h * 3600.0 if shock.duration_h else math.inf
            self.halted_until[shock.exchange] = end
        elif isinstance(shock, AssumedHaircutShock):
            change = p.apply_haircut(shock.applies_to, shock.pct, t_s)
            self.assumption_labels.append(
                {"name": f"assumed reserve haircut {shock.pct:g}%", "value": shock.pct,
                 "kind": "seed-claim", "source": shock.source or shock.label,
                 "label": shock.label}
            )  # fmt: skip
        elif isinstance(shock, NewsShock) and shock.targets:
            keys = set(shock.targets)
            targets = [
                i for i, c in enumerate(self.cohorts)
                if {c.spec.name, c.spec.type, c.spec.jurisdiction} & keys
            ]  # fmt: skip
        if alarm:
            self.sentiment.add(alarm, targets)
        self.shock_log.append(
            {"at_s": t_s, "at": self._iso(t_s), "index": index, "kind": shock.kind,
             "note": shock.note, "source": shock.source, "reserve_change_minor": change,
             "alarm": alarm}
        )  # fmt: skip

    def _release(self, t_s: float) -> None:
        """Deposits unfrozen at bank opening after a backstop."""
        due = self.portfolio.next_unfreeze_s
        if due is not None and due <= t_s:
            self.portfolio.release_frozen(t_s)

    def halted(self, exchange: str | None, t_s: float) -> bool:
        return exchange is not None and self.halted_until.get(exchange, -1.0) > t_s

    # ------------------------------------------------------------------ holders

    def _holders_run(self, t_s: float, dt: float) -> int:
        """Each cohort decides how much to pull; exits go to the issuer's queue or the market."""
        b = self.spec.behaviour
        shortfall_pct = max(0.0, 1.0 - self.issuer.coverage()) * 100.0
        pterm = price_term(self.price, b) + b.shortfall_weight * shortfall_pct
        herd = b.herd_per_pct_supply * self._herd_sum / self.issuer.supply_start_minor * 100.0
        backstop = 1.0 - b.backstop_hazard_cut if self.sentiment.backstop else 1.0
        dt_h = dt / 3600.0
        sigma = b.noise_sigma
        drift = sigma * sigma / 2.0
        gauss = self._rng.gauss
        accepting = self.issuer.accepting(t_s)
        min_redeem = self.spec.issuer.redemption.min_minor
        global_alarm = self.sentiment.global_alarm
        targeted = self.sentiment.targeted
        day = int(t_s // DAY_S)
        sells: list[tuple[int, int]] = []
        exits_total = 0
        for i, c in enumerate(self.cohorts):
            hazard = c.hazard_per_h
            if hazard <= 0.0:
                continue
            stress = c.news * (global_alarm + targeted[i]) + c.price * pterm + c.herd * herd
            if stress <= 0.0:
                continue  # calm: no exits, and no draw (the stream only advances under stress)
            runnable = c.runnable()
            if runnable <= 0:
                continue
            noise = math.exp(gauss(0.0, sigma) - drift) if sigma else 1.0
            x = math.floor(runnable * (1.0 - math.exp(-hazard * stress * backstop * dt_h * noise)))
            if x < 100:  # less than a dollar: nobody moves
                continue
            exits_total += x
            c.exited_minor += x
            c.balance_minor -= x
            direct = c.issuer_access and x >= min_redeem
            via_exchange = c.par_exchange is not None and not self.halted(c.par_exchange, t_s)
            if accepting and (direct or via_exchange):
                self.issuer.request(c.owner, x, t_s)
                c.queued_minor += x
                self.requested_by_day[day] += x
            else:
                sells.append((i, x))
        if sells:
            self._sell_for_holders(sells)
        self._herd.append(exits_total)
        self._herd_sum += exits_total
        if len(self._herd) > self._herd_len:
            self._herd_sum -= self._herd.popleft()
        return exits_total

    def _sell_for_holders(self, sells: list[tuple[int, int]]) -> None:
        """Sell the cohorts' tokens across venues by flow share; split proceeds pro rata."""
        total = sum(x for _, x in sells)
        shares = [v.flow_share for v in self.venues]
        whole = sum(shares)
        paid_total, taken_total = 0, 0
        leftover = total
        for k, v in enumerate(self.venues):
            qty = (
                total - taken_total
                if k == len(self.venues) - 1
                else math.floor(total * shares[k] / whole)
            )
            qty = min(qty, leftover)
            paid, taken = v.sell_tokens(qty)
            paid_total += paid
            taken_total += taken
            leftover -= taken
            self._step_volume[v.chain] += taken
        # Whatever a drained venue could not take goes to the deepest venue still paying.
        for v in sorted(self.venues, key=lambda v: -v.price):
            if leftover <= 0:
                break
            paid, taken = v.sell_tokens(leftover)
            paid_total += paid
            taken_total += taken
            leftover -= taken
            self._step_volume[v.chain] += taken
        sold = _split(taken_total, [x for _, x in sells])
        cash = _split(paid_total, [x for _, x in sells])
        for (i, x), s, p in zip(sells, sold, cash):
            c = self.cohorts[i]
            c.balance_minor += x - s  # unsold tokens stay with the holder
            c.exited_minor -= x - s
            c.sold_minor += s
            c.sale_proceeds_minor += p
            ramp = self.spec.ramps.get(c.spec.jurisdiction)
            if ramp is not None and c.spec.type in EM_TYPES:
                c.ramp_cost_minor += math.ceil(p * ramp.off_fee_bps / 10_000.0)
            c.receive_cash(p)
            self._note_flight(c, p)

    def _note_flight(self, c: HolderCohort, cash: int) -> None:
        share = c.spec.flight.get("cbdc", 0.0)
        if share:
            self.cbdc_by_day[int(self.now_s // DAY_S)] += math.floor(cash * share)

    # ------------------------------------------------------------------ arbitrage

    def _arbitrage_context(self, t_s: float, bank_open: bool) -> ArbitrageContext:
        issuer = self.issuer
        red = self.spec.issuer.redemption
        return ArbitrageContext(
            v_base=min(1.0, issuer.coverage()),
            v_tail=min(1.0, issuer.worst_coverage()),
            alarm=self.sentiment.global_alarm,
            wait_days=issuer.wait_days(t_s),
            issuer_open=issuer.accepting(t_s),
            mint_open=issuer.can_mint(t_s),
            redeem_fee=red.fee_bps / 10_000.0,
            mint_fee=self.spec.issuer.mint.fee_bps / 10_000.0,
            bank_open=bank_open,
            pays_par=red.pays_par_when_insolvent,
        )

    def _arbitrage(self, t_s: float, dt: float, ctx: ArbitrageContext, bank_open: bool) -> None:
        before = [v.volume_minor for v in self.venues]
        for k, arb in enumerate(self.arbs):
            s = arb.spec
            if bank_open and s.replenish_per_hour_minor:
                top_up = math.floor(s.replenish_per_hour_minor * dt / 3600.0)
                arb.cash_minor += top_up
                arb.replenished_minor += top_up
            venues = self._arb_venues[k]
            arb.buy_below_value(venues, ctx)
            if (
                s.issuer_access
                and ctx.issuer_open
                and arb.inventory_minor >= self.spec.issuer.redemption.min_minor
            ):
                self.issuer.request(f"arb:{k}", arb.inventory_minor, t_s)
                self.requested_by_day[int(t_s // DAY_S)] += arb.inventory_minor
                arb.queued_minor += arb.inventory_minor
                arb.inventory_minor = 0
            ask = 1.0 - ctx.redeem_fee if s.issuer_access else ctx.v_base
            arb.sell_above_value(venues, max(ask, 1.0 - ctx.redeem_fee))
            if s.issuer_access and ctx.mint_open:
                self._mint_and_sell(arb, venues, ctx, t_s)
        for v, vol in zip(self.venues, before):
            if v.volume_minor != vol:
                self._step_volume[v.chain] += v.volume_minor - vol

    def _mint_and_sell(
        self, arb: Arbitrageur, venues: list[LiquidityVenue], ctx: ArbitrageContext, t_s: float
    ) -> None:
        ask = 1.0 + ctx.mint_fee + 0.0005
        if all(v.price <= ask for v in venues):
            return
        need = sum(v.tokens_to_reach(ask) for v in venues if v.price > ask)
        cash = min(arb.cash_minor, need)
        if cash < self.spec.issuer.mint.min_minor:
            return
        tokens = self.issuer.mint(cash, t_s)
        if tokens <= 0:
            return
        arb.cash_minor -= cash
        arb.minted_minor += tokens
        arb.inventory_minor += tokens
        self.minted_by_day[int(t_s // DAY_S)] += tokens
        arb.sell_above_value(venues, ask)

    # ------------------------------------------------------------------ the issuer pays

    def _settle(self, payouts: list[Payout], t_s: float) -> None:
        day = int(t_s // DAY_S)
        for p in payouts:
            self.burned_by_day[day] += p.tokens_burned_minor
            kind, _, idx = p.owner.partition(":")
            if kind == "holder":
                c = self.cohorts[int(idx)]
                c.queued_minor -= p.tokens_burned_minor
                c.redeemed_minor += p.tokens_burned_minor
                c.redemption_cash_minor += p.cash_paid_minor
                c.receive_cash(p.cash_paid_minor)
                self._note_flight(c, p.cash_paid_minor)
            elif kind == "arb":
                arb = self.arbs[int(idx)]
                arb.queued_minor -= p.tokens_burned_minor
                arb.cash_minor += p.cash_paid_minor
            else:  # api callers (the gRPC service): dollars paid to them, by owner
                self.api_paid_minor[idx] = self.api_paid_minor.get(idx, 0) + p.cash_paid_minor

    def _maybe_reinvest(self, t_s: float, bank_open: bool) -> None:
        liq = self.spec.issuer.liquidity
        if (
            not (liq.reinvest and bank_open)
            or self.issuer.queue
            or self.sentiment.global_alarm > 0.05
        ):
            return
        if int(t_s // 3600) % 24 != int(self.calendar.next_open_s(t_s) // 3600) % 24:
            return  # once a day, at the first step after opening
        keep = math.floor(liq.buffer_target_pct / 100.0 * self.issuer.supply_minor)
        self.portfolio.reinvest(t_s, keep, liq.reinvest_tenor_days)

    # ------------------------------------------------------------------ chains

    def _load_chains(self, dt: float) -> None:
        m = self.spec.market
        for name, chain in self.chains.items():
            off = self._step_volume.get("offchain", 0)
            # Deposits to exchanges are on-chain too, on the chains the holders use.
            volume = self._step_volume.get(name, 0) + off * self._chain_share.get(name, 0.0)
            trades = volume / m.avg_ticket_minor * m.stress_gas_multiplier
            blocks = max(1.0, dt / chain.spec.block_time_s)
            chain.set_stress_gas(trades * chain.spec.gas_per_swap / blocks)

    # ------------------------------------------------------------------ corridor payments

    def submit_transfer(
        self,
        amount_minor: int,
        corridor: str,
        at_s: float,
        *,
        chain: str | None = None,
        tip_tier: str | None = None,
        kyc_covered: bool | None = None,
    ) -> TransferReceipt:
        """Carry one corridor payment of ``amount_minor`` US cents over the rail at ``at_s``.

        The world first advances to ``at_s``. The payer's ramp buys tokens, the chain includes the
        transfer (mempool ordered by tip; full blocks make low tips wait), finality follows, and
        the payee's ramp sells. ``kyc_covered`` None draws from the ramp's KYC coverage with the
        transfer stream of the seed.
        """
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
            raise ValueError(
                f"amount_minor: must be a positive integer of US cents (got {amount_minor!r})"
            )
        src, dst = parse_corridor(corridor)
        for code in (src, dst):
            if code not in self.spec.ramps:
                known = ", ".join(sorted(self.spec.ramps)) or "none"
                raise ValueError(f"corridor: no ramp for {code} (ramps: {known})")
        if at_s < self.now_s:
            raise ValueError(f"at_s: {at_s} is before the world's clock ({self.now_s})")
        self.advance(at_s)
        on_spec, off_spec = self.spec.ramps[src], self.spec.ramps[dst]
        name = chain or on_spec.chain or self.spec.transfers.default_chain
        if name not in self.chains:
            raise ValueError(f"chain: unknown chain {name!r} (known: {', '.join(self.chains)})")
        tier = tip_tier or self.spec.transfers.tip_tier
        rng = self._transfer_rng
        kyc_on = kyc_covered if kyc_covered is not None else rng.random() < on_spec.kyc_coverage
        kyc_off = kyc_covered if kyc_covered is not None else rng.random() < off_spec.kyc_coverage
        on = ramp_leg(src, on_spec, "on", amount_minor, kyc_on)
        off = ramp_leg(dst, off_spec, "off", amount_minor, kyc_off)
        status = "settled"
        to_chain = at_s + on.delay_s
        if self.halted(on_spec.exchange, at_s):
            to_chain = max(to_chain, self.halted_until[on_spec.exchange or ""] + on.delay_s)
            status = "delayed"
        inclusion = self.chains[name].include(to_chain if math.isfinite(to_chain) else at_s, tier)
        credited: float | None = inclusion.finality_at_s + off.delay_s
        if self.halted(off_spec.exchange, inclusion.finality_at_s):
            credited = self.halted_until[off_spec.exchange or ""] + off.delay_s
            status = "delayed"
        if not math.isfinite(to_chain) or (credited is not None and not math.isfinite(credited)):
            credited, status = None, "stuck"
        total = on.fee_minor + on.capital_control_minor + inclusion.fee_minor + off.fee_minor
        self.transfers_submitted += 1
        self.transfer_fee_minor_by_chain[name].append(inclusion.fee_minor)
        return TransferReceipt(
            transfer_id=f"sc-{self.seed}-{next(self._transfer_ids)}",
            corridor=f"{src}-{dst}",
            chain=name,
            amount_minor=amount_minor,
            currency="USD",
            submitted_at_s=at_s,
            on_ramp_route=on.route,
            off_ramp_route=off.route,
            on_ramp_fee_minor=on.fee_minor,
            capital_control_minor=on.capital_control_minor,
            network_fee_minor=inclusion.fee_minor,
            off_ramp_fee_minor=off.fee_minor,
            total_cost_minor=total,
            cost_bps=round(total / amount_minor * 10_000.0, 3),
            block_number=inclusion.block_number,
            included_at_s=inclusion.included_at_s,
            finality_at_s=inclusion.finality_at_s,
            credited_at_s=credited,
            settle_s=(credited - at_s) if credited is not None else None,
            status=status,
            token_price=round(self.price, 6),
            depeg_exposure_minor=math.floor(amount_minor * max(0.0, 1.0 - self.price)),
        )

    # ------------------------------------------------------------------ direct issuer access

    def redeem(self, owner: str, amount_minor: int, at_s: float) -> bool:
        """Lodge a redemption of tokens an API caller minted earlier; paid in bank hours.

        Returns False if the issuer is not accepting requests (suspended)."""
        self.advance(at_s)
        held = self.api_tokens_minor.get(owner, 0)
        if amount_minor <= 0 or amount_minor > held:
            raise ValueError(f"amount_minor: {owner!r} holds {held} token minor units")
        if self.issuer.request(f"api:{owner}", amount_minor, at_s) is None:
            return False
        self.api_tokens_minor[owner] = held - amount_minor
        self.requested_by_day[int(at_s // DAY_S)] += amount_minor
        return True

    def mint(self, owner: str, amount_minor: int, at_s: float) -> int:
        """Mint for an API caller (dollars wired in); returns tokens created (0 if closed)."""
        self.advance(at_s)
        tokens = self.issuer.mint(amount_minor, at_s)
        if tokens:
            self.api_tokens_minor[owner] = self.api_tokens_minor.get(owner, 0) + tokens
            self.api_cash_in_minor += amount_minor
            self.minted_by_day[int(at_s // DAY_S)] += tokens
        return tokens

    # ------------------------------------------------------------------ reporting

    def market_price(self) -> float:
        """Aggregated secondary price: venue prices weighted by venue depth."""
        return sum(v.price * w for v, w in zip(self.venues, self._venue_weights))

    def migration_share(self) -> float:
        b = self.spec.behaviour
        stress = self.sentiment.global_alarm + price_term(self.price, b)
        return min(1.0, b.migration_per_stress * stress)

    def _record(self, t_s: float, exits: int) -> None:
        issuer, p = self.issuer, self.portfolio
        for v in self.venues:
            v.min_price = min(v.min_price, v.price)
        s0 = issuer.supply_start_minor
        net = issuer.burned_minor - issuer.minted_minor
        self._rows.append((
            t_s, self.price, min(v.price for v in self.venues), issuer.supply_minor, p.mtm_minor,
            issuer.coverage(), net / s0 * 100.0, issuer.requested_minor / s0 * 100.0,
            issuer.queue_minor, exits, self.sentiment.global_alarm,
            sum(a.inventory_minor + a.queued_minor for a in self.arbs),
            sum(a.cash_minor for a in self.arbs), p.liquid_minor(t_s, CASH_LIKE), p.frozen_minor,
            p.curve.yield_at(91.0) * 100.0, p.curve.impact_bp, self.calendar.is_open(t_s),
            self.migration_share(),
        ))  # fmt: skip
        row: list[float] = []
        for chain in self.chains.values():
            row += [chain.base_fee, chain.pending_gas(),
                    chain.transfer_fee_minor_now(self.spec.transfers.tip_tier)]  # fmt: skip
        self._chain_rows.append(tuple(row))

    def timeseries(self) -> list[dict[str, Any]]:
        """One row per step: price, supply, reserves, redemptions, queue, chains, ..."""
        out = []
        names = list(self.chains)
        for row, chain_row in zip(self._rows, self._chain_rows):
            d = dict(zip(COLUMNS, row))
            d["at"] = self._iso(d["t_s"])
            for k, name in enumerate(names):
                d[f"base_fee_{name}"] = chain_row[3 * k]
                d[f"mempool_gas_{name}"] = chain_row[3 * k + 1]
                d[f"transfer_fee_minor_{name}"] = chain_row[3 * k + 2]
            out.append(d)
        return out

    def _usd_total(self) -> int:
        return (
            sum(c.cash_minor for c in self.cohorts) + sum(a.cash_minor for a in self.arbs)
            + sum(v.usd_minor for v in self.venues) + self.portfolio.mtm_minor
        )  # fmt: skip

    def audit(self) -> dict[str, Any]:
        """Token and dollar identities; every ``*_gap_minor`` must be 0."""
        issuer, p = self.issuer, self.portfolio
        tokens = (
            sum(c.balance_minor for c in self.cohorts) + sum(v.token_minor for v in self.venues)
            + sum(a.inventory_minor for a in self.arbs) + issuer.queue_minor
            + sum(self.api_tokens_minor.values())
        )  # fmt: skip
        reserves = p.audit()
        # Dollars that entered or left the world from outside: arbitrageurs' new capital, API
        # mints in and API payouts out, revaluations, and what fire-sale buyers kept.
        external = (
            sum(a.replenished_minor for a in self.arbs) + self.api_cash_in_minor
            - sum(self.api_paid_minor.values()) + reserves["revaluation_minor"]
            - reserves["fire_sale_cost_minor"]
        )  # fmt: skip
        return {
            "supply_minor": issuer.supply_minor,
            "tokens_held_minor": tokens,
            "token_gap_minor": issuer.supply_minor - tokens,
            "supply_identity_gap_minor": issuer.supply_minor
            - (issuer.supply_start_minor + issuer.minted_minor - issuer.burned_minor),
            "reserve_gap_minor": reserves["gap_minor"],
            "usd_total_minor": self._usd_total(),
            "usd_expected_minor": self._initial_usd + external,
            "usd_gap_minor": self._usd_total() - (self._initial_usd + external),
            "reserves": reserves,
        }

    def summary(self) -> dict[str, Any]:
        from services.stablecoin.report import build_summary

        return build_summary(self)


def _split(total: int, weights: list[int]) -> list[int]:
    """Split an integer ``total`` in proportion to ``weights``; remainders to the largest parts."""
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    parts = [total * w // whole for w in weights]
    rest = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def bond_math(portfolio: ReservePortfolio, shift_bp: float = 100.0) -> dict[str, Any]:
    """The bond math a briefing shows beside the seed's 12 % claim."""
    y3m = portfolio.curve.base_yield(91.0)
    y10 = portfolio.curve.base_yield(3650.0)
    return {
        "shift_bp": shift_bp,
        "tbill_3m_pct": round(bill_loss_pct(y3m, 91.0, shift_bp), 4),
        "note_10y_pct": round(note_loss_pct(y10, y10, 10.0, shift_bp), 4),
        "bill_portfolio_wam_days": round(portfolio.wam_days(portfolio.t_s), 2),
        "bill_portfolio_pct": round(
            bill_loss_pct(y3m, max(1.0, portfolio.wam_days(portfolio.t_s)), shift_bp), 4
        ),
        "seed_claim_pct": -SEED_CLAIM_PCT,
        "note": "A 3-month bill loses ~0.25% for +100 bp and a 10-year note ~7.7%; the seed's "
        "12% loss for T-bill reserves would need a duration near 12 years.",
    }
