"""Seeded corridor traffic with laundering typologies planted in it, and the ground truth.

`NormalTraffic` writes a week of legitimate corridor traffic on both rails, WITH the confounders a
real supervisor meets, so precision measures something:
- merchants (and on chain, payment processors) that fan in from hundreds of customers;
- employers paying payroll to dozens of employees (fan-out), pre-funded from the bank minutes
  before (a fast in-and-out);
- landlords whose tenants all pay on rent day (fan-in), some tenants paying exactly at their
  tier cap;
- small businesses paying a batch of suppliers every evening (velocity, fan-out);
- cross-border traders paying and being paid by foreign partners every day, some re-paying a
  supplier within the hour (pass-through, cycles);
- group-buy organisers collecting from friends and paying a travel merchant;
- people who sometimes pay just under round numbers (4,999; 49,900; ...);
- consumption vouchers, with the odd legitimate full refund and merchant staff who shop at
  their own shop;
- on chain: exchange-to-exchange hops through one's own address, trading bots, OTC desks.

`TypologyInjector` plants cases of every typology on the CBDC rail (wallets in CN/HK/TH/AE/SA,
cross-border legs through the BRIDGE joined by payment_id) and on the stablecoin rail (chain
addresses; value enters and leaves through KYC'd ramps - fiat leg visible - or through non-KYC
OTC desks and self-custody). Each `PlantedCase` records its wallets, transfers, time span,
laundered value and the accounts where value entered and left the scheme (for penetration).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from typing import ClassVar

from services.supervision.policy import DEFAULT_CNY_PER_MAJOR, DetectorPolicy
from services.supervision.postings import CBDC_RAIL, STABLECOIN_RAIL, Posting
from services.supervision.world import (
    CHAINS,
    DAY_S,
    HOUR_S,
    MINUTE_S,
    STABLECOIN,
    T0,
    Address,
    CorridorWorld,
    Ramp,
    Wallet,
)

CBDC_TYPOLOGIES: tuple[str, ...] = (
    "structuring",
    "fan_in",
    "fan_out",
    "cycle",
    "pass_through",
    "scatter_gather",
    "velocity",
    "watch_list",
    "voucher_misuse",
)
# Vouchers are programmable central-bank money: there is no voucher misuse on the chain.
STABLECOIN_TYPOLOGIES: tuple[str, ...] = tuple(t for t in CBDC_TYPOLOGIES if t != "voucher_misuse")
WARMUP_S = DAY_S  # detectors' baselines need a day of history; no case starts before it

MERCHANT_CATEGORIES = (
    ("grocery", 0.30),
    ("restaurant", 0.25),
    ("utilities", 0.12),
    ("transport", 0.10),
    ("electronics", 0.08),
    ("education", 0.05),
    ("fitness", 0.05),
    ("travel", 0.05),
)
ROUND_PRICES_CNY = (999, 1_999, 2_999, 4_999, 9_999)
JUST_UNDER_CNY = (990, 999, 1_990, 1_999, 4_900, 4_990, 4_999, 9_999, 19_990, 49_900, 49_999)


@dataclass(frozen=True)
class PlantedCase:
    """Ground truth for one laundering scheme the injector wrote into the feeds."""

    case_id: str
    typology: str
    rail: str
    wallets: frozenset[str]  # every wallet/address the scheme controls
    transfer_ids: frozenset[str]
    start_at: float  # business time of the case's first planted posting
    end_at: float  # ...and of its last (cash-out included)
    pattern_end_at: float  # last posting of the typology's own pattern (no placement/cash-out)
    laundered_value_cny: float  # value placed into the scheme, CNY-equivalent
    entry_accounts: tuple[str, ...]  # where illicit value entered the scheme
    exit_accounts: tuple[str, ...]  # where it left


@dataclass
class SupervisionScenario:
    """A seeded run's feeds (time-ordered postings) and what was planted in them."""

    seed: int
    scale: float
    start_at: float
    end_at: float
    warmup_s: float
    postings: list[Posting]
    cases: list[PlantedCase]
    watch_list: frozenset[str]
    known_services: frozenset[str]

    def policy(self, base: DetectorPolicy | None = None) -> DetectorPolicy:
        """The detector policy with this world's watch list and service attributions."""
        return replace(
            base or DetectorPolicy(),
            watch_list=self.watch_list,
            known_services=self.known_services,
        )


@dataclass
class _CaseDraft:
    case_id: str
    typology: str
    rail: str
    wallets: set[str] = field(default_factory=set)
    value_cny: float = 0.0
    entry: list[str] = field(default_factory=list)
    exit: list[str] = field(default_factory=list)
    start_at: float = math.inf
    end_at: float = -math.inf
    pattern_end_at: float = -math.inf

    def span(self, at: float, core: bool = True) -> float:
        """Extend the case's time span to `at`; `core` postings are the typology's pattern
        itself (not placement before it or cash-out after it)."""
        self.start_at = min(self.start_at, at)
        self.end_at = max(self.end_at, at)
        if core:
            self.pattern_end_at = max(self.pattern_end_at, at)
        return at


@dataclass
class Person:
    wallet: Wallet
    friends: list[Wallet] = field(default_factory=list)
    abroad: Wallet | None = None  # a relative in another jurisdiction


@dataclass
class Population:
    persons: dict[str, list[Person]] = field(default_factory=dict)
    merchants: dict[str, list[tuple[Wallet, str]]] = field(default_factory=dict)
    corporates: dict[str, list[Wallet]] = field(default_factory=dict)
    chain_users: list[tuple[Address, Ramp, Wallet | None]] = field(default_factory=list)
    kyc_ramps: list[Ramp] = field(default_factory=list)
    otc_desks: list[Ramp] = field(default_factory=list)
    exchanges: list[Ramp] = field(default_factory=list)
    services: set[str] = field(default_factory=set)
    voucher_holders: list[Wallet] = field(default_factory=list)


def _n(base: float, scale: float, minimum: int) -> int:
    return max(minimum, round(base * scale))


def _poisson(rng, lam: float) -> int:
    # Knuth; lam is small here.
    threshold, k, prod = math.exp(-lam), 0, rng.random()
    while prod > threshold:
        k += 1
        prod *= rng.random()
    return k


def _weighted(rng, pairs):
    x, acc = rng.random(), 0.0
    for item, weight in pairs:
        acc += weight
        if x <= acc:
            return item
    return pairs[-1][0]


# =============================================================================================
class NormalTraffic:
    """A week of legitimate corridor traffic on both rails (see the module docstring)."""

    SIZES: ClassVar[dict[str, int]] = {"CN": 5_000, "HK": 1_200, "TH": 300, "AE": 300, "SA": 300}

    def __init__(self, world: CorridorWorld, scale: float) -> None:
        self.w = world
        self.scale = scale
        self.pop = Population()

    # --- population --------------------------------------------------------------------------
    def build_population(self) -> Population:
        w, rng, pop, s = self.w, self.w.rng, self.pop, self.scale
        for j, base in self.SIZES.items():
            persons = []
            for _ in range(_n(base, s, 40)):
                tier = _weighted(rng, ((2, 0.6), (3, 0.25), (4, 0.15)))
                persons.append(Person(w.wallet(j, tier)))
            for p in persons:
                p.friends = [q.wallet for q in rng.sample(persons, 8) if q is not p]
            pop.persons[j] = persons
            pop.merchants[j] = [
                (w.wallet(j, 1), _weighted(rng, MERCHANT_CATEGORIES))
                for _ in range(_n(base / 20, s, 8))
            ]
            pop.corporates[j] = [w.wallet(j, 1) for _ in range(_n(base / 50, s, 6))]
        for j in ("HK", "TH", "AE", "SA"):
            for p in rng.sample(pop.persons[j], len(pop.persons[j]) // 10):
                p.abroad = rng.choice(pop.persons["CN"]).wallet
        self._build_chain_population()
        return pop

    def _build_chain_population(self) -> None:
        w, rng, pop = self.w, self.w.rng, self.pop
        for j in ("HK", "AE", "TH", "SA"):  # licensed, KYC'd ramps settle fiat on the node
            ramp = Ramp(f"ramp-{j}", j, True, Wallet(f"ramp-fiat-{j.lower()}", j, 0),
                        {c: w.address(c) for c in CHAINS})  # fmt: skip
            pop.kyc_ramps.append(ramp)
        for i in range(3):  # offshore exchanges: attributed, but report no fiat legs to us
            pop.exchanges.append(Ramp(f"exchange-{i}", "", False, None,
                                      {c: w.address(c) for c in CHAINS}))  # fmt: skip
        for i in range(4):  # OTC desks: neither KYC'd nor attributed
            pop.otc_desks.append(Ramp(f"otc-{i}", "", False, None,
                                      {c: w.address(c) for c in CHAINS}))  # fmt: skip
        for r in pop.kyc_ramps + pop.exchanges:
            pop.services.update(a.id for a in r.hot.values())
        w.ramps = pop.kyc_ramps + pop.exchanges + pop.otc_desks
        for _ in range(_n(1_500, self.scale, 60)):
            chain = CHAINS[0] if rng.random() < 0.6 else CHAINS[1]
            addr = w.address(chain)
            if rng.random() < 0.5:
                ramp = rng.choice(pop.kyc_ramps)
                holder = rng.choice(pop.persons[ramp.jurisdiction]).wallet
                pop.chain_users.append((addr, ramp, holder))
            else:
                venue = rng.choice(pop.exchanges + pop.otc_desks)
                pop.chain_users.append((addr, venue, None))

    # --- traffic -----------------------------------------------------------------------------
    def generate(self) -> Population:
        self.build_population()
        for day in range(self.w.days):
            self._retail_day(day)
            self._chain_day(day)
        self._payroll()
        self._rent()
        self._traders()
        self._bulk_payers()
        self._group_buys()
        self._vouchers()
        self._chain_services()
        return self.pop

    def _amount(self, payer: Wallet, cny_major: float) -> int:
        return self.w.capped(payer, self.w.minor(payer.currency, cny_major))

    def _retail_day(self, day: int) -> None:
        w, rng, pop = self.w, self.w.rng, self.pop
        for j, persons in pop.persons.items():
            merchants = pop.merchants[j]
            for person in persons:
                me = person.wallet
                if rng.random() < 0.25:
                    w.load(me, self._amount(me, rng.uniform(200, 3_000)), w.at_in_day(day, 7, 10))
                for _ in range(_poisson(rng, 1.6)):
                    m, mcc = merchants[min(int(rng.paretovariate(1.2)) - 1, len(merchants) - 1)]
                    if mcc == "electronics" and rng.random() < 0.3:
                        price = float(rng.choice(ROUND_PRICES_CNY))
                    else:
                        price = rng.lognormvariate(math.log(60), 1.0)
                    w.pay(me, m, self._amount(me, price), w.at_in_day(day), "merchant", mcc)
                for _ in range(_poisson(rng, 0.35)):
                    friend = rng.choice(person.friends)
                    if rng.random() < 0.04:
                        cny = float(rng.choice(JUST_UNDER_CNY))
                    else:
                        cny = rng.lognormvariate(math.log(300), 1.1)
                    w.pay(me, friend, self._amount(me, cny), w.at_in_day(day))
                if person.abroad is not None and rng.random() < 0.12:
                    remit = rng.uniform(1_000, 10_000)
                    w.pay(me, person.abroad, self._amount(me, remit), w.at_in_day(day))
                if rng.random() < 0.03:
                    w.redeem(me, self._amount(me, rng.uniform(200, 2_000)), w.at_in_day(day))

    def _payroll(self) -> None:
        """Employers pre-fund from the bank, then pay every employee within an hour or two."""
        w, rng, pop = self.w, self.w.rng, self.pop
        for j in ("CN", "HK"):
            persons = pop.persons[j]
            for employer in pop.corporates[j][: max(2, len(pop.corporates[j]) // 3)]:
                staff = rng.sample(persons, min(len(persons), rng.randint(15, 120)))
                payday = rng.randrange(w.days)
                start = w.at_in_day(payday, 9, 15)
                salaries = [w.minor(employer.currency, rng.uniform(5_000, 30_000)) for _ in staff]
                w.load(employer, sum(salaries), start - rng.uniform(10, 90) * MINUTE_S)
                for person, salary in zip(staff, salaries, strict=True):
                    w.pay(employer, person.wallet, salary, start + rng.uniform(0, 1.5) * HOUR_S)

    def _rent(self) -> None:
        """Tenants pay their landlord on rent day; a tier-3/4 tenant pays at its cap, then the
        rest."""
        w, rng, pop = self.w, self.w.rng, self.pop
        for j in ("CN", "HK"):
            persons = pop.persons[j]
            for _ in range(_n(40 if j == "CN" else 10, self.scale, 3)):
                landlord = rng.choice(persons).wallet
                day = rng.randrange(w.days)
                for tenant in rng.sample(persons, rng.randint(3, 14)):
                    if tenant.wallet == landlord:
                        continue
                    rent = w.minor(landlord.currency, rng.uniform(1_500, 8_000))
                    at = w.at_in_day(day, 8, 23) + (DAY_S if rng.random() < 0.2 else 0.0)
                    while rent > 0:
                        part = w.capped(tenant.wallet, rent)
                        w.pay(tenant.wallet, landlord, part, at)
                        rent -= part
                        at += rng.uniform(1, 10) * MINUTE_S

    def _traders(self) -> None:
        """Cross-border traders pay foreign suppliers and are paid by foreign buyers; some pay a
        supplier shortly after being paid."""
        w, rng, pop = self.w, self.w.rng, self.pop
        cn = pop.corporates["CN"]
        foreign = [c for j in ("HK", "TH", "AE", "SA") for c in pop.corporates[j]]
        for trader in cn:
            partners = rng.sample(foreign, min(len(foreign), rng.randint(2, 6)))
            suppliers = rng.sample(cn, min(len(cn), 3))
            quick = rng.random() < 0.25
            for day in range(w.days):
                if rng.random() < 0.6:
                    cny = rng.lognormvariate(math.log(150_000), 1.0)
                    w.pay(
                        trader, rng.choice(partners), w.minor("CNY", cny), w.at_in_day(day, 9, 18)
                    )
                if rng.random() < 0.5:
                    buyer = rng.choice(partners)
                    cny = rng.lognormvariate(math.log(150_000), 1.0)
                    at = w.at_in_day(day, 9, 18)
                    w.pay(buyer, trader, w.minor(buyer.currency, cny), at)
                    if quick:
                        supplier = rng.choice(suppliers)
                        if supplier != trader:
                            share = rng.uniform(0.6, 0.95)
                            w.pay(trader, supplier, w.minor("CNY", cny * share),
                                  at + rng.uniform(10, 40) * MINUTE_S)  # fmt: skip
        for buyer in foreign:  # foreign firms also buy from Chinese firms directly
            for day in range(w.days):
                if rng.random() < 0.3:
                    cny = rng.lognormvariate(math.log(100_000), 1.0)
                    w.pay(buyer, rng.choice(cn), w.minor(buyer.currency, cny), w.at_in_day(day))

    def _bulk_payers(self) -> None:
        """Small businesses paying a batch of 10-30 suppliers every evening."""
        w, rng, pop = self.w, self.w.rng, self.pop
        persons = pop.persons["CN"]
        for _ in range(_n(20, self.scale, 2)):
            firm = w.wallet("CN", 1)
            suppliers = [p.wallet for p in rng.sample(persons, 40)]
            w.load(firm, w.minor("CNY", 50_000), T0 + 6 * HOUR_S)
            for day in range(w.days):
                start = w.at_in_day(day, 16, 18)
                for supplier in rng.sample(suppliers, rng.randint(10, 30)):
                    amount = w.minor("CNY", rng.uniform(300, 5_000))
                    w.pay(firm, supplier, amount, start + rng.uniform(0, 50) * MINUTE_S)

    def _group_buys(self) -> None:
        """Organisers collect a trip's cost from friends, then pay the travel agency."""
        w, rng, pop = self.w, self.w.rng, self.pop
        travel = [m for m, mcc in pop.merchants["CN"] if mcc == "travel"] or [
            pop.merchants["CN"][0][0]
        ]
        persons = pop.persons["CN"]
        for _ in range(_n(30, self.scale, 3)):
            organiser = rng.choice(persons).wallet
            day = rng.randrange(w.days)
            start = w.at_in_day(day, 9, 20)
            total = 0
            for friend in rng.sample(persons, rng.randint(5, 15)):
                share = w.capped(friend.wallet, w.minor("CNY", rng.uniform(300, 3_000)))
                w.pay(friend.wallet, organiser, share, start + rng.uniform(0, 2) * HOUR_S)
                total += share
            pay_at = start + rng.uniform(2.2, 3.0) * HOUR_S
            while total > 0:
                part = w.capped(organiser, total)
                w.pay(organiser, rng.choice(travel), part, pay_at, "merchant", "travel")
                total -= part
                pay_at += 60.0

    def _vouchers(self) -> None:
        """A consumption-voucher programme: grants on day 0, redemptions at grocery and
        restaurant merchants; a few legitimate full refunds; staff shopping where they work."""
        w, rng, pop = self.w, self.w.rng, self.pop
        eligible = [(m, mcc) for m, mcc in pop.merchants["CN"] if mcc in ("grocery", "restaurant")]
        persons = pop.persons["CN"]
        staff_of = {m: [p.wallet for p in rng.sample(persons, 4)] for m, _ in eligible}
        for person in rng.sample(persons, len(persons) * 3 // 10):
            holder = person.wallet
            grant = w.minor("CNY", rng.choice((100, 200, 300, 500)))
            w.grant_voucher(holder, grant, T0 + rng.uniform(1, 6) * HOUR_S)
            pop.voucher_holders.append(holder)
            left = grant
            while left > 0:
                m, mcc = rng.choice(eligible)
                spend = min(left, w.minor("CNY", rng.uniform(30, 250)))
                at = w.at_in_day(rng.uniform(0, w.days - 1))
                w.pay(holder, m, spend, at, "voucher", mcc)
                if rng.random() < 0.003:  # the shop refunds a cancelled order in full
                    w.pay(m, holder, spend, at + rng.uniform(1, 24) * HOUR_S, "merchant", mcc)
                left -= spend
        for m, _ in eligible:  # shop staff, paid weekly, shop where they work
            for clerk in staff_of[m]:
                day = rng.randrange(1, w.days)
                w.pay(clerk, m, w.minor("CNY", rng.uniform(20, 120)), w.at_in_day(day),
                      "voucher", "grocery")  # fmt: skip
                w.pay(m, clerk, w.minor("CNY", rng.uniform(3_000, 8_000)),
                      w.at_in_day(day, 18, 22))  # fmt: skip

    # --- stablecoin rail ---------------------------------------------------------------------
    def _chain_day(self, day: int) -> None:
        w, rng, pop = self.w, self.w.rng, self.pop
        users = pop.chain_users
        same_chain: dict[str, list[Address]] = {}
        for addr, _, _ in users:
            same_chain.setdefault(addr.chain, []).append(addr)
        for addr, venue, holder in users:
            if rng.random() < 0.15:  # buy tokens
                cny = rng.lognormvariate(math.log(5_000), 1.0)
                w.buy_tokens(venue, holder, addr, cny, w.at_in_day(day))
            for _ in range(_poisson(rng, 0.6)):  # pay someone on the same chain
                peer = rng.choice(same_chain[addr.chain])
                if peer != addr:
                    usdt = rng.lognormvariate(math.log(300), 1.2)
                    w.chain_transfer(addr, peer, w.minor(STABLECOIN, usdt * 7.2), w.at_in_day(day))
            if rng.random() < 0.12:  # sell tokens
                usdt = rng.lognormvariate(math.log(600), 1.0)
                w.sell_tokens(venue, addr, holder, w.minor(STABLECOIN, usdt * 7.2),
                              w.at_in_day(day))  # fmt: skip
            if rng.random() < 0.03:  # move between two exchanges through one's own address
                a, b = rng.sample(pop.exchanges, 2)
                tokens = w.minor(STABLECOIN, rng.uniform(2_000, 30_000) * 7.2)
                at = w.at_in_day(day)
                w.chain_transfer(a.hot[addr.chain], addr, tokens, at)
                w.chain_transfer(addr, b.hot[addr.chain], tokens, at + rng.uniform(3, 20) * 60)

    def _chain_services(self) -> None:
        """Payment processors (attributed) and unattributed shops fan in; trading bots trade."""
        w, rng, pop = self.w, self.w.rng, self.pop
        users = [a for a, _, _ in pop.chain_users]
        for i in range(_n(20, self.scale, 3)):
            shop = w.address(CHAINS[i % 2])
            if i % 2 == 0:
                pop.services.add(shop.id)  # a processor; odd ones are unattributed shops
            buyers = [u for u in users if u.chain == shop.chain]
            for day in range(w.days):
                for _ in range(rng.randint(10, 40)):
                    usdt = rng.lognormvariate(math.log(80), 1.0)
                    w.chain_transfer(rng.choice(buyers), shop, w.minor(STABLECOIN, usdt * 7.2),
                                     w.at_in_day(day))  # fmt: skip
        for i in range(_n(10, self.scale, 2)):
            chain = CHAINS[i % 2]
            bot = w.address(chain)
            venues = [e.hot[chain] for e in pop.exchanges]
            for day in range(w.days):
                for _ in range(rng.randint(40, 120)):
                    usdt = rng.uniform(500, 5_000)
                    at = w.at_in_day(day, 0, 24)
                    if rng.random() < 0.5:
                        w.chain_transfer(
                            bot, rng.choice(venues), w.minor(STABLECOIN, usdt * 7.2), at
                        )
                    else:
                        w.chain_transfer(
                            rng.choice(venues), bot, w.minor(STABLECOIN, usdt * 7.2), at
                        )


# =============================================================================================
class TypologyInjector:
    """Plants laundering cases into a world's feeds, on either rail, and records ground truth.

    On the stablecoin rail each case's placement and integration each go through a KYC'd ramp
    (fiat leg visible to the supervisor) with probability `kyc_ramp_share`, otherwise through a
    non-KYC OTC desk or self-custody."""

    def __init__(self, world: CorridorWorld, population: Population,
                 kyc_ramp_share: float = 0.5) -> None:  # fmt: skip
        self.w = world
        self.pop = population
        self.rng = world.rng
        self.kyc_ramp_share = kyc_ramp_share
        self.drafts: list[_CaseDraft] = []
        self.watch_list: set[str] = set()
        self._n = 0

    # --- public API --------------------------------------------------------------------------
    def plant(self, typology: str, rail: str, start_at: float | None = None) -> str:
        """Plant one case; returns its case id (ground truth is built by `cases`)."""
        known = CBDC_TYPOLOGIES if rail == CBDC_RAIL else STABLECOIN_TYPOLOGIES
        if typology not in known:
            raise ValueError(f"typology {typology!r} cannot be planted on the {rail} rail")
        self._n += 1
        case = _CaseDraft(f"{rail}-{typology}-{self._n:03d}", typology, rail)
        if start_at is None:
            latest = self.w.end_at - 2.5 * DAY_S
            start_at = self.rng.uniform(T0 + WARMUP_S, max(T0 + WARMUP_S, latest))
        getattr(self, f"_{rail}_{typology}")(case, start_at)
        self.drafts.append(case)
        return case.case_id

    def cases(self, tagged: dict[str, list[str]]) -> list[PlantedCase]:
        return [
            PlantedCase(
                d.case_id,
                d.typology,
                d.rail,
                frozenset(d.wallets),
                frozenset(tagged.get(d.case_id, ())),
                d.start_at,
                d.end_at,
                d.pattern_end_at if d.pattern_end_at > -math.inf else d.end_at,
                round(d.value_cny, 2),
                tuple(dict.fromkeys(d.entry)),
                tuple(dict.fromkeys(d.exit)),
            )
            for d in self.drafts
        ]

    # --- helpers -----------------------------------------------------------------------------
    def _jur(self) -> str:
        return _weighted(self.rng, (("CN", 0.6), ("HK", 0.25), ("TH", 0.05), ("AE", 0.05),
                                    ("SA", 0.05)))  # fmt: skip

    def _wallet(self, case: _CaseDraft, j: str, tier: int) -> Wallet:
        wallet = self.w.wallet(j, tier)
        case.wallets.add(wallet.id)
        return wallet

    def _pay(self, case: _CaseDraft, a: Wallet, b: Wallet, amount: int, at: float,
             kind: str = "p2p", mcc: str = "", core: bool = True) -> None:  # fmt: skip
        self.w.pay(a, b, amount, case.span(at, core), kind, mcc, case.case_id)

    def _load(self, case: _CaseDraft, wallet: Wallet, amount: int, at: float) -> None:
        """Placement on the CBDC rail: cash into a bank account, loaded into a wallet."""
        self.w.load(wallet, amount, case.span(at, core=False), case.case_id)
        case.value_cny += amount * DEFAULT_CNY_PER_MAJOR[wallet.currency] / 100
        case.entry.append(wallet.id)

    def _cash_out(self, case: _CaseDraft, wallet: Wallet, amount: int, at: float) -> None:
        self.w.redeem(wallet, amount, case.span(at, core=False), case.case_id)
        case.exit.append(wallet.id)

    def _cny(self, wallet: Wallet, cny_major: float) -> int:
        return self.w.minor(wallet.currency, cny_major)

    def _cover(self, case: _CaseDraft, wallet: Wallet, n: int = 2, watched: bool = False) -> None:
        """A little ordinary shopping so case wallets are not silent apart from the scheme.
        A watch-listed party's shopping is part of its case: every flow it makes is a hit."""
        merchants = self.pop.merchants[wallet.jurisdiction]
        for _ in range(n):
            m, mcc = self.rng.choice(merchants)
            at = self.w.at_in_day(self.rng.uniform(0, self.w.days - 1))
            amount = self.w.capped(wallet, self._cny(wallet, self.rng.uniform(20, 300)))
            if watched:
                case.span(at, core=False)
            self.w.pay(wallet, m, amount, at, "merchant", mcc, case.case_id)

    # --- CBDC rail cases ---------------------------------------------------------------------
    def _cbdc_structuring(self, case: _CaseDraft, t: float) -> None:
        rng, j = self.rng, self._jur()
        variant = rng.choice(("reporting", "tier3", "tier4"))
        collector = self._wallet(case, j, 2)
        if variant == "reporting":
            # One payer splits a large sum into payments just under the reporting threshold
            # (also the tier-2 per-payment cap), two a day to stay under the daily cap.
            payer = self._wallet(case, j, 2)
            beneficiaries = [collector] + [
                self._wallet(case, j, 2) for _ in range(rng.randint(0, 2))
            ]
            threshold = self.w.caps[(payer.currency, 2)]
            k = rng.randint(3, 6)
            amounts = [int(threshold * rng.uniform(0.91, 0.998)) for _ in range(k)]
            self._load(case, payer, sum(amounts), t - rng.uniform(1, 6) * HOUR_S)
            for i, amount in enumerate(amounts):
                at = t + (i // 2) * DAY_S + rng.uniform(0, 10) * HOUR_S
                self._pay(case, payer, beneficiaries[i % len(beneficiaries)], amount, at)
            for b in beneficiaries:
                self._cash_out(case, b, threshold // 2, case.end_at + rng.uniform(1, 12) * HOUR_S)
            return
        tier = 3 if variant == "tier3" else 4
        cap = self.w.caps[(CURRENCY_OF[j], tier)]
        smurfs = [self._wallet(case, j, tier) for _ in range(rng.randint(3, 6))]
        counts = [rng.randint(1, 2) for _ in smurfs]
        counts[0] += max(0, 4 - sum(counts))  # at least four near-cap payments converge
        total = 0
        for smurf, count in zip(smurfs, counts, strict=True):
            payments = [int(cap * rng.uniform(0.91, 0.998)) for _ in range(count)]
            self._load(case, smurf, sum(payments), t - rng.uniform(0.5, 4) * HOUR_S)
            for k, amount in enumerate(payments):
                self._pay(
                    case, smurf, collector, amount, t + k * DAY_S + rng.uniform(0, 20) * HOUR_S
                )
                total += amount
        self._cash_out(case, collector, total * 9 // 10, case.end_at + rng.uniform(1, 12) * HOUR_S)

    def _cbdc_fan_in(self, case: _CaseDraft, t: float) -> None:
        """Scam proceeds: victims pay mules, mules forward almost all of it to one collector."""
        rng, j = self.rng, self._jur()
        collector = self._wallet(case, j, 2)
        victims = self.pop.persons[j]
        total = 0
        span_h = rng.uniform(2, 12)
        for _ in range(rng.randint(7, 20)):  # a small ring can stay under the radar
            mule = self._wallet(case, j, rng.choice((3, 3, 4)))
            victim = rng.choice(victims).wallet
            amount = self.w.capped(victim, self._cny(victim, rng.uniform(2_500, 4_900)))
            forward_at = t + rng.uniform(0, span_h) * HOUR_S
            got_at = forward_at - rng.uniform(0.3, 6) * HOUR_S
            self._pay(case, victim, mule, amount, got_at, core=False)
            case.value_cny += amount * DEFAULT_CNY_PER_MAJOR[victim.currency] / 100
            case.entry.append(mule.id)
            left = amount * rng.randint(95, 100) // 100
            total += left
            while left > 0:
                part = self.w.capped(mule, left)
                self._pay(case, mule, collector, part, forward_at)
                left -= part
                forward_at += rng.uniform(1, 5) * MINUTE_S
        self._cash_out(case, collector, total * 9 // 10, case.end_at + rng.uniform(6, 24) * HOUR_S)

    def _cbdc_fan_out(self, case: _CaseDraft, t: float) -> None:
        """A distributor funded in one go pays many fresh mules, who cash out within hours."""
        rng, j = self.rng, self._jur()
        source = self._wallet(case, j, 1)
        distributor = self._wallet(case, j, rng.choice((1, 2)))
        n = rng.randint(10, 20)
        parts = [self._cny(distributor, rng.uniform(2_000, 9_000)) for _ in range(n)]
        funding = sum(parts) * 102 // 100
        self._load(case, source, funding, t - rng.uniform(2, 8) * HOUR_S)
        self._pay_split(case, source, distributor, funding, t - rng.uniform(0.5, 3) * HOUR_S)
        for amount in parts:
            mule = self._wallet(case, j, rng.choice((2, 3)))
            at = t + rng.uniform(0, 4) * HOUR_S
            self._pay_split(case, distributor, mule, amount, at)
            out = amount * rng.randint(85, 100) // 100
            self._cash_out(case, mule, out, at + rng.uniform(1, 8) * HOUR_S)

    def _pay_split(self, case: _CaseDraft, a: Wallet, b: Wallet, amount: int, at: float) -> None:
        """Pay within a's per-payment cap, in parts if needed."""
        while amount > 0:
            part = self.w.capped(a, amount)
            self._pay(case, a, b, part, at)
            amount -= part
            at += self.rng.uniform(1, 5) * MINUTE_S

    def _cbdc_cycle(self, case: _CaseDraft, t: float) -> None:
        """Round-tripping through shell companies in several jurisdictions and back home."""
        rng = self.rng
        k = rng.randint(3, 6)
        places = ["CN"] + [rng.choice(("HK", "TH", "AE", "SA", "CN")) for _ in range(k - 1)]
        if len(set(places)) < 2:
            places[1] = "HK"
        shells = [self._wallet(case, j, 1) for j in places]
        for s in shells:
            self._cover(case, s)
        cny = rng.uniform(80_000, 2_000_000)
        amount = self._cny(shells[0], cny)
        self._load(case, shells[0], amount, t - rng.uniform(1, 10) * HOUR_S)
        at = t
        for i in range(k):
            a, b = shells[i], shells[(i + 1) % k]
            self._pay(case, a, b, amount, at)
            amount = self.w.convert(amount, a.currency, b.currency) * rng.randint(950, 995) // 1000
            at += rng.uniform(1, 12) * HOUR_S
        case.exit.append(shells[0].id)

    def _cbdc_pass_through(self, case: _CaseDraft, t: float) -> None:
        """A chain of accounts each forwarding ~everything within minutes, some across borders."""
        rng = self.rng
        k = rng.randint(3, 5)
        hops = [self._wallet(case, self._jur(), 1) for _ in range(k)]
        source = self._wallet(case, hops[0].jurisdiction, 1)
        amount = self._cny(source, rng.uniform(20_000, 600_000))
        self._load(case, source, amount, t - rng.uniform(1, 12) * HOUR_S)
        at = t
        self._pay(case, source, hops[0], amount, at)
        amount = self.w.convert(amount, source.currency, hops[0].currency)
        for a, b in itertools.pairwise(hops):
            at += rng.uniform(2, 35) * MINUTE_S
            amount = amount * rng.randint(960, 998) // 1000
            self._pay(case, a, b, amount, at)
            amount = self.w.convert(amount, a.currency, b.currency)
        self._cash_out(case, hops[-1], amount * 9 // 10, at + rng.uniform(1, 10) * HOUR_S)

    def _cbdc_scatter_gather(self, case: _CaseDraft, t: float) -> None:
        rng, j = self.rng, self._jur()
        source = self._wallet(case, j, 1)
        collector = self._wallet(case, self._jur(), rng.choice((1, 2)))
        n = rng.randint(4, 10)
        parts = [self._cny(source, rng.uniform(5_000, 45_000)) for _ in range(n)]
        self._load(case, source, sum(parts), t - rng.uniform(1, 6) * HOUR_S)
        total = 0
        for amount in parts:
            middle = self._wallet(case, j, 1)
            at = t + rng.uniform(0, 6) * HOUR_S
            self._pay(case, source, middle, amount, at)
            fwd = amount * rng.randint(85, 99) // 100
            self._pay(case, middle, collector, fwd, at + rng.uniform(2, 30) * HOUR_S)
            total += self.w.convert(fwd, middle.currency, collector.currency)
        self._cash_out(case, collector, total * 9 // 10, case.end_at + rng.uniform(2, 24) * HOUR_S)

    def _cbdc_velocity(self, case: _CaseDraft, t: float) -> None:
        """A quiet wallet suddenly empties itself in dozens of payments within the hour."""
        rng, j = self.rng, self._jur()
        wallet = self._wallet(case, j, 2)
        self._cover(case, wallet, 2)
        # Tier-2 receivers: a real node caps a tier-3 wallet's balance (CNY 20,000), far below
        # what a burst of 14-50 payments puts on one to four receivers.
        receivers = [self._wallet(case, j, 2) for _ in range(rng.randint(1, 4))]
        n = rng.randint(14, 50)
        amounts = [self._cny(wallet, rng.uniform(300, 2_400)) for _ in range(n)]
        self._load(case, wallet, sum(amounts), max(T0 + HOUR_S, t - rng.uniform(1, 3) * DAY_S))
        span = rng.uniform(30, 55) * MINUTE_S
        for amount in amounts:
            self._pay(case, wallet, rng.choice(receivers), amount, t + rng.uniform(0, span))
        for r in receivers:
            self._cash_out(case, r, self._cny(r, 1_000), t + span + rng.uniform(1, 6) * HOUR_S)

    def _cbdc_watch_list(self, case: _CaseDraft, t: float) -> None:
        rng, j = self.rng, self._jur()
        listed = self._wallet(case, j, rng.choice((1, 2)))
        self.watch_list.add(listed.id)
        self._cover(case, listed, watched=True)
        funders = [self._wallet(case, self._jur(), 1) for _ in range(rng.randint(2, 4))]
        received = 0
        at = t
        for f in funders:
            amount = self._cny(f, rng.uniform(5_000, 45_000))
            self._load(case, f, amount, at - rng.uniform(1, 6) * HOUR_S)
            self._pay(case, f, listed, amount, at)
            received += self.w.convert(amount, f.currency, listed.currency)
            at += rng.uniform(1, 12) * HOUR_S
        for _ in range(rng.randint(2, 4)):
            payee = self._wallet(case, self._jur(), 2)
            amount = min(received, self._cny(listed, rng.uniform(3_000, 20_000)))
            if amount <= 0:
                break
            self._pay_split(case, listed, payee, amount, at)
            received -= amount
            got = self.w.convert(amount, listed.currency, payee.currency)
            self._cash_out(case, payee, got * 9 // 10, at + rng.uniform(1, 10) * HOUR_S)
            at += rng.uniform(1, 12) * HOUR_S

    def _cbdc_voucher_misuse(self, case: _CaseDraft, t: float) -> None:
        """A colluding merchant takes voucher redemptions and pays holders back in cash."""
        rng, w = self.rng, self.w
        merchant = self._wallet(case, "CN", 1)
        mcc = rng.choice(("grocery", "restaurant"))
        for person in rng.sample(self.pop.persons["CN"], 12):  # genuine customers as cover
            at = w.at_in_day(rng.uniform(0, w.days - 1))
            w.pay(
                person.wallet, merchant, w.minor("CNY", rng.uniform(20, 200)), at, "merchant", mcc
            )
        for _ in range(rng.randint(3, 8)):
            holder = self._wallet(case, "CN", rng.choice((2, 3, 4)))
            grant = w.minor("CNY", rng.choice((200, 300, 500, 800)))
            w.grant_voucher(holder, grant, T0 + rng.uniform(1, 6) * HOUR_S)
            at = t + rng.uniform(0, 24) * HOUR_S
            self._pay(case, holder, merchant, grant, at, "voucher", mcc)
            back = grant * rng.randint(80, 95) // 100
            self._pay(case, merchant, holder, back, at + rng.uniform(0.5, 20) * HOUR_S)
            case.value_cny += grant / 100
            case.entry.append(holder.id)
            case.exit.append(holder.id)

    # --- stablecoin rail cases ---------------------------------------------------------------
    def _addr(self, case: _CaseDraft, chain: str) -> Address:
        a = self.w.address(chain)
        case.wallets.add(a.id)
        return a

    def _place(self, case: _CaseDraft, to: Address, cny: float, at: float) -> int:
        """Placement: tokens bought through a KYC'd ramp (fiat leg from the launderer's wallet)
        or from an OTC desk against cash. Returns the tokens received."""
        if self.rng.random() < self.kyc_ramp_share:
            ramp = self.rng.choice(self.pop.kyc_ramps)
            payer = self._wallet(case, ramp.jurisdiction, 2)
            funded_at = case.span(at - HOUR_S, core=False)
            self.w.load(payer, self.w.minor(payer.currency, cny), funded_at, case.case_id)
        else:
            ramp, payer = self.rng.choice(self.pop.otc_desks), None
        tokens = self.w.buy_tokens(ramp, payer, to, cny, case.span(at, core=False), case.case_id)
        case.span(at + 120.0, core=False)
        case.value_cny += cny
        case.entry.append(to.id)
        return tokens

    def _integrate(self, case: _CaseDraft, src: Address, tokens: int, at: float,
                   exit_kyc: bool | None = None) -> None:  # fmt: skip
        """Integration: tokens sold through a KYC'd ramp into a wallet, or to an OTC desk."""
        kyc = self.rng.random() < self.kyc_ramp_share if exit_kyc is None else exit_kyc
        if kyc:
            ramp = self.rng.choice(self.pop.kyc_ramps)
            payee = self._wallet(case, ramp.jurisdiction, 2)
        else:
            ramp, payee = self.rng.choice(self.pop.otc_desks), None
        self.w.sell_tokens(ramp, src, payee, tokens, case.span(at, core=False), case.case_id)
        case.span(at + 120.0, core=False)
        case.exit.append(src.id)

    def _send(self, case: _CaseDraft, a: Address, b: Address, tokens: int, at: float,
              core: bool = True) -> None:  # fmt: skip
        self.w.chain_transfer(a, b, tokens, case.span(at, core), "chain", "", case.case_id)

    def _usdt(self, usdt: float) -> int:
        return self.w.minor(STABLECOIN, usdt * 7.2)

    def _stablecoin_structuring(self, case: _CaseDraft, t: float) -> None:
        rng = self.rng
        chain = rng.choice(CHAINS)
        payer = self._addr(case, chain)
        k = rng.randint(3, 6)
        amounts = [int(10_000 * 10**6 * rng.uniform(0.91, 0.998)) for _ in range(k)]
        self._place(case, payer, sum(amounts) / 10**6 * 7.2 / 0.99, t - rng.uniform(1, 8) * HOUR_S)
        receivers = [self._addr(case, chain) for _ in range(rng.randint(1, 3))]
        exit_kyc = rng.random() < self.kyc_ramp_share
        got = dict.fromkeys((r.id for r in receivers), 0)
        for i, amount in enumerate(amounts):
            r = receivers[i % len(receivers)]
            self._send(case, payer, r, amount, t + i * rng.uniform(2, 14) * HOUR_S)
            got[r.id] += amount
        for r in receivers:
            self._integrate(case, r, got[r.id], case.end_at + rng.uniform(1, 12) * HOUR_S, exit_kyc)

    def _stablecoin_fan_in(self, case: _CaseDraft, t: float) -> None:
        rng = self.rng
        chain = rng.choice(CHAINS)
        collector = self._addr(case, chain)
        victims = [a for a, _, _ in self.pop.chain_users if a.chain == chain]
        total = 0
        span_h = rng.uniform(2, 12)
        for _ in range(rng.randint(7, 20)):
            mule = self._addr(case, chain)
            tokens = self._usdt(rng.uniform(400, 3_000))
            forward_at = t + rng.uniform(0, span_h) * HOUR_S
            victim = rng.choice(victims)
            self._send(case, victim, mule, tokens, forward_at - rng.uniform(0.3, 6) * HOUR_S, False)
            case.value_cny += tokens / 10**6 * 7.2
            case.entry.append(mule.id)
            fwd = tokens * rng.randint(97, 100) // 100
            self._send(case, mule, collector, fwd, forward_at)
            total += fwd
        self._integrate(case, collector, total, case.end_at + rng.uniform(2, 24) * HOUR_S)

    def _stablecoin_fan_out(self, case: _CaseDraft, t: float) -> None:
        rng = self.rng
        chain = rng.choice(CHAINS)
        distributor = self._addr(case, chain)
        parts = [self._usdt(rng.uniform(1_000, 5_000)) for _ in range(rng.randint(10, 20))]
        self._place(
            case, distributor, sum(parts) / 10**6 * 7.2 / 0.99, t - rng.uniform(1, 4) * HOUR_S
        )
        exit_kyc = rng.random() < self.kyc_ramp_share
        for tokens in parts:
            mule = self._addr(case, chain)
            at = t + rng.uniform(0, 4) * HOUR_S
            self._send(case, distributor, mule, tokens, at)
            self._integrate(case, mule, tokens * rng.randint(97, 100) // 100,
                            at + rng.uniform(1, 8) * HOUR_S, exit_kyc)  # fmt: skip

    def _stablecoin_cycle(self, case: _CaseDraft, t: float) -> None:
        rng = self.rng
        chain = rng.choice(CHAINS)
        nodes = [self._addr(case, chain) for _ in range(rng.randint(3, 5))]
        tokens = self._place(
            case, nodes[0], rng.uniform(150_000, 1_500_000), t - rng.uniform(1, 6) * HOUR_S
        )
        at = t
        for i in range(len(nodes)):
            tokens = tokens * rng.randint(970, 995) // 1000
            self._send(case, nodes[i], nodes[(i + 1) % len(nodes)], tokens, at)
            at += rng.uniform(1, 12) * HOUR_S
        self._integrate(case, nodes[0], tokens * 9 // 10, at + rng.uniform(1, 12) * HOUR_S)

    def _stablecoin_pass_through(self, case: _CaseDraft, t: float) -> None:
        """A peel chain: each address forwards almost everything within minutes."""
        rng = self.rng
        chain = rng.choice(CHAINS)
        source = self._addr(case, chain)
        hops = [self._addr(case, chain) for _ in range(rng.randint(3, 6))]
        tokens = self._place(
            case, source, rng.uniform(20_000, 800_000), t - rng.uniform(1, 12) * HOUR_S
        )
        at = t
        prev = source
        for hop in hops:
            tokens = tokens * rng.randint(970, 998) // 1000
            self._send(case, prev, hop, tokens, at)
            at += rng.uniform(1, 15) * MINUTE_S
            prev = hop
        self._integrate(case, hops[-1], tokens, at + rng.uniform(1, 10) * HOUR_S)

    def _stablecoin_scatter_gather(self, case: _CaseDraft, t: float) -> None:
        rng = self.rng
        chain = rng.choice(CHAINS)
        source = self._addr(case, chain)
        collector = self._addr(case, chain)
        parts = [self._usdt(rng.uniform(1_000, 6_000)) for _ in range(rng.randint(5, 10))]
        self._place(case, source, sum(parts) / 10**6 * 7.2 / 0.99, t - rng.uniform(1, 6) * HOUR_S)
        total = 0
        for tokens in parts:
            middle = self._addr(case, chain)
            at = t + rng.uniform(0, 6) * HOUR_S
            self._send(case, source, middle, tokens, at)
            fwd = tokens * rng.randint(85, 99) // 100
            self._send(case, middle, collector, fwd, at + rng.uniform(2, 30) * HOUR_S)
            total += fwd
        self._integrate(case, collector, total, case.end_at + rng.uniform(2, 24) * HOUR_S)

    def _stablecoin_velocity(self, case: _CaseDraft, t: float) -> None:
        rng = self.rng
        chain = rng.choice(CHAINS)
        wallet = self._addr(case, chain)
        amounts = [self._usdt(rng.uniform(50, 2_000)) for _ in range(rng.randint(14, 50))]
        placed_at = max(T0 + HOUR_S, t - rng.uniform(1, 3) * DAY_S)
        self._place(case, wallet, sum(amounts) / 10**6 * 7.2 / 0.99, placed_at)
        receivers = [self._addr(case, chain) for _ in range(rng.randint(1, 4))]
        span = rng.uniform(30, 55) * MINUTE_S
        got = dict.fromkeys((r.id for r in receivers), 0)
        for tokens in amounts:
            r = rng.choice(receivers)
            self._send(case, wallet, r, tokens, t + rng.uniform(0, span))
            got[r.id] += tokens
        exit_kyc = rng.random() < self.kyc_ramp_share
        for r in receivers:
            if got[r.id]:
                self._integrate(case, r, got[r.id], t + span + rng.uniform(1, 8) * HOUR_S, exit_kyc)

    def _stablecoin_watch_list(self, case: _CaseDraft, t: float) -> None:
        rng = self.rng
        chain = rng.choice(CHAINS)
        listed = self._addr(case, chain)
        self.watch_list.add(listed.id)
        tokens = self._place(
            case, listed, rng.uniform(50_000, 500_000), t - rng.uniform(1, 6) * HOUR_S
        )
        at = t
        exit_kyc = rng.random() < self.kyc_ramp_share
        for _ in range(rng.randint(2, 4)):
            payee = self._addr(case, chain)
            part = tokens // 4
            self._send(case, listed, payee, part, at)
            self._integrate(case, payee, part, at + rng.uniform(1, 10) * HOUR_S, exit_kyc)
            at += rng.uniform(1, 12) * HOUR_S


CURRENCY_OF = {"CN": "CNY", "HK": "HKD", "TH": "THB", "AE": "AED", "SA": "SAR"}


def build_scenario(
    seed: int = 7,
    scale: float = 1.0,
    *,
    days: int = 7,
    cases_per_typology: dict[str, int] | None = None,
    normal_traffic: bool = True,
    kyc_ramp_share: float = 0.5,
) -> SupervisionScenario:
    """Normal corridor traffic for `days` with planted cases on both rails, time-ordered.

    `cases_per_typology` maps "<rail>:<typology>" (or "<rail>" for all of a rail's typologies)
    to a count; by default 20 per CBDC typology and 15 per stablecoin typology, times `scale`
    (at least 2 each)."""
    if scale <= 0:
        raise ValueError(f"scale must be positive (got {scale})")
    if days < 4:
        raise ValueError(f"days must be >= 4 so cases fit after the warm-up (got {days})")
    world = CorridorWorld(seed, days)
    traffic = NormalTraffic(world, scale)
    population = traffic.generate() if normal_traffic else traffic.build_population()
    injector = TypologyInjector(world, population, kyc_ramp_share)
    for rail, typologies, base in (
        (CBDC_RAIL, CBDC_TYPOLOGIES, 20),
        (STABLECOIN_RAIL, STABLECOIN_TYPOLOGIES, 15),
    ):
        for typology in typologies:
            if cases_per_typology is None:
                n = max(2, round(base * scale))
            else:
                n = cases_per_typology.get(f"{rail}:{typology}", cases_per_typology.get(rail, 0))
            for _ in range(n):
                injector.plant(typology, rail)
    postings, tagged = world.writer.finalize()
    return SupervisionScenario(
        seed=seed,
        scale=scale,
        start_at=T0,
        end_at=world.end_at,
        warmup_s=WARMUP_S,
        postings=postings,
        cases=injector.cases(tagged),
        watch_list=frozenset(injector.watch_list),
        known_services=frozenset(population.services),
    )
