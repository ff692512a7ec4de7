"""The synthetic corridor the supervision evaluation runs on: accounts, rails and a posting writer.

`CorridorWorld` owns the seeded RNG, the population and a `PostingWriter`; it knows how each kind
of payment appears in the ledgers' feeds (one leg domestically; four legs and a shared
`payment_id` across two central-bank ledgers and the BRIDGE for a cross-border PvP payment; a fiat
leg plus a chain leg for a KYC'd ramp; a bare chain transfer for everything else on chain).
Nothing here reads the wall clock: business time starts at `T0` and is drawn from the RNG.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from services.supervision.policy import (
    DEFAULT_CNY_PER_MAJOR,
    DEFAULT_MINOR_EXPONENT,
    node_tier_caps_minor,
)
from services.supervision.postings import BRIDGE, Posting

T0 = 1_736_121_600.0  # Monday 2025-01-06 00:00 UTC: business time of the first simulated day
DAY_S = 86_400.0
HOUR_S = 3_600.0
MINUTE_S = 60.0
CURRENCY = {"CN": "CNY", "HK": "HKD", "TH": "THB", "AE": "AED", "SA": "SAR"}
STABLECOIN = "USDT"
CHAINS = ("CHAIN:tron", "CHAIN:ethereum")
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Wallet:
    """A CBDC wallet at an operator (tier 1..4) or an institutional account (tier 0)."""

    id: str
    jurisdiction: str
    tier: int

    @property
    def currency(self) -> str:
        return CURRENCY[self.jurisdiction]


@dataclass(frozen=True, slots=True)
class Address:
    """A chain address (no tier, no jurisdiction)."""

    id: str
    chain: str


@dataclass(frozen=True, slots=True)
class Ramp:
    """An on/off-ramp. A KYC'd ramp settles fiat on a central-bank ledger (so its customers' chain
    addresses can be traced to their wallets); a non-KYC desk only shows up on chain."""

    name: str
    jurisdiction: str
    kyc: bool
    fiat: Wallet | None
    hot: dict[str, Address]


class PostingWriter:
    """Collects postings as drafts; `finalize` orders them by business time and numbers each
    ledger's feed, so transfer ids carry no hint of which postings were planted."""

    def __init__(self) -> None:
        self._drafts: list[tuple] = []

    def __len__(self) -> int:
        return len(self._drafts)

    def post(
        self,
        ledger: str,
        debit: str,
        credit: str,
        amount_minor: int,
        currency: str,
        kind: str,
        at: float,
        payment_id: str = "",
        debit_jurisdiction: str = "",
        credit_jurisdiction: str = "",
        debit_tier: int = 0,
        credit_tier: int = 0,
        merchant_category: str = "",
        tag: str = "",
    ) -> None:
        if amount_minor <= 0:
            return
        self._drafts.append(
            (
                at,
                len(self._drafts),
                ledger,
                payment_id,
                debit,
                credit,
                int(amount_minor),
                currency,
                kind,
                debit_jurisdiction,
                credit_jurisdiction,
                debit_tier,
                credit_tier,
                merchant_category,
                tag,
            )
        )

    def finalize(self) -> tuple[list[Posting], dict[str, list[str]]]:
        """Postings in feed order, and the transfer ids written under each tag."""
        self._drafts.sort(key=lambda d: (d[0], d[1]))
        seqs: dict[str, int] = {}
        postings: list[Posting] = []
        tagged: dict[str, list[str]] = {}
        for d in self._drafts:
            ledger = d[2]
            seq = seqs.get(ledger, 0) + 1
            seqs[ledger] = seq
            tid = f"{ledger.replace('CHAIN:', '').lower()}-{seq:07d}"
            postings.append(
                Posting(
                    ledger,
                    seq,
                    tid,
                    d[3],
                    d[4],
                    d[5],
                    d[6],
                    d[7],
                    d[8],
                    d[0],
                    d[9],
                    d[10],
                    d[11],
                    d[12],
                    d[13],
                )
            )
            if d[14]:
                tagged.setdefault(d[14], []).append(tid)
        return postings, tagged


@dataclass
class CorridorWorld:
    """Seeded world: RNG, id space, institutions, and how each payment is written to the feeds."""

    seed: int
    days: int = 7
    rng: random.Random = field(init=False)
    writer: PostingWriter = field(init=False, default_factory=PostingWriter)
    ids: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.caps = node_tier_caps_minor()
        self.operators = {j: Wallet(f"op-{j.lower()}-omnibus", j, 0) for j in CURRENCY}
        self.bridge_banks = {j: f"bridge-bank-{j.lower()}" for j in CURRENCY}
        self.liquidity_provider = "bridge-lp-1"
        self.voucher_escrow = Wallet("voucher-escrow-cn", "CN", 0)
        self.ramps: list[Ramp] = []

    # --- ids and amounts ---------------------------------------------------------------------
    def new_id(self, prefix: str, hex_digits: int = 10) -> str:
        while True:
            candidate = f"{prefix}{self.rng.getrandbits(4 * hex_digits):0{hex_digits}x}"
            if candidate not in self.ids:
                self.ids.add(candidate)
                return candidate

    def wallet(self, jurisdiction: str, tier: int) -> Wallet:
        return Wallet(self.new_id(f"w-{jurisdiction.lower()}-"), jurisdiction, tier)

    def address(self, chain: str) -> Address:
        if chain == "CHAIN:ethereum":
            return Address(self.new_id("0x", 40), chain)
        while True:
            candidate = "T" + "".join(self.rng.choice(_B58) for _ in range(33))
            if candidate not in self.ids:
                self.ids.add(candidate)
                return Address(candidate, chain)

    def payment_id(self) -> str:
        return self.new_id("pay-", 16)

    def minor(self, currency: str, cny_major: float) -> int:
        """Minor units of `currency` worth `cny_major` CNY at the reference rate."""
        exp = DEFAULT_MINOR_EXPONENT.get(currency, 2)
        return int(cny_major / DEFAULT_CNY_PER_MAJOR[currency] * 10**exp)

    def convert(self, amount_minor: int, src: str, dst: str) -> int:
        """FX at the reference rate in integer arithmetic, rounded down (the liquidity provider
        keeps the sub-unit remainder)."""
        e_src = DEFAULT_MINOR_EXPONENT.get(src, 2)
        e_dst = DEFAULT_MINOR_EXPONENT.get(dst, 2)
        r_src = round(DEFAULT_CNY_PER_MAJOR[src] * 10_000)
        r_dst = round(DEFAULT_CNY_PER_MAJOR[dst] * 10_000)
        return amount_minor * r_src * 10**e_dst // (r_dst * 10**e_src)

    def cap(self, w: Wallet) -> int | None:
        """Per-payment cap of the wallet's tier in minor units (None: no cap)."""
        return self.caps.get((w.currency, w.tier))

    def capped(self, w: Wallet, amount_minor: int) -> int:
        """Clip a payment to the payer's per-payment cap (payers who hit it pay exactly the cap)."""
        cap = self.cap(w)
        return amount_minor if cap is None else min(amount_minor, cap)

    def at_in_day(self, day: float, hour_lo: float = 7.0, hour_hi: float = 23.0) -> float:
        return T0 + day * DAY_S + self.rng.uniform(hour_lo, hour_hi) * HOUR_S

    @property
    def end_at(self) -> float:
        return T0 + self.days * DAY_S

    # --- CBDC rail ---------------------------------------------------------------------------
    def pay(self, a: Wallet, b: Wallet, amount_minor: int, at: float, kind: str = "p2p",
            mcc: str = "", tag: str = "") -> None:  # fmt: skip
        """A payment from wallet a to wallet b: one leg at home, four legs across a border."""
        if a.jurisdiction == b.jurisdiction:
            self.writer.post(
                a.jurisdiction, a.id, b.id, amount_minor, a.currency, kind, at, "",
                a.jurisdiction, b.jurisdiction, a.tier, b.tier, mcc, tag,
            )  # fmt: skip
            return
        self.cross_border(a, b, amount_minor, at, tag)

    def cross_border(self, a: Wallet, b: Wallet, amount_minor: int, at: float,
                     tag: str = "") -> None:  # fmt: skip
        """PvP through the bridge: payer -> operator (source ledger), bank -> LP and LP -> bank
        (BRIDGE, one leg per currency), operator -> payee (destination ledger)."""
        pid = self.payment_id()
        out_minor = self.convert(amount_minor, a.currency, b.currency)
        op_a, op_b = self.operators[a.jurisdiction], self.operators[b.jurisdiction]
        bank_a, bank_b = self.bridge_banks[a.jurisdiction], self.bridge_banks[b.jurisdiction]
        lp = self.liquidity_provider
        w = self.writer
        w.post(a.jurisdiction, a.id, op_a.id, amount_minor, a.currency, "pvp", at, pid,
               a.jurisdiction, a.jurisdiction, a.tier, 0, "", tag)  # fmt: skip
        w.post(BRIDGE, bank_a, lp, amount_minor, a.currency, "pvp", at + 1.0, pid,
               a.jurisdiction, "", 0, 0, "", tag)  # fmt: skip
        w.post(BRIDGE, lp, bank_b, out_minor, b.currency, "pvp", at + 1.0, pid,
               "", b.jurisdiction, 0, 0, "", tag)  # fmt: skip
        w.post(b.jurisdiction, op_b.id, b.id, out_minor, b.currency, "pvp", at + 2.0, pid,
               b.jurisdiction, b.jurisdiction, 0, b.tier, "", tag)  # fmt: skip

    def load(self, w: Wallet, amount_minor: int, at: float, tag: str = "") -> None:
        """The holder converts bank deposits into CBDC at their operator."""
        op = self.operators[w.jurisdiction]
        self.writer.post(w.jurisdiction, op.id, w.id, amount_minor, w.currency, "issue", at, "",
                         w.jurisdiction, w.jurisdiction, 0, w.tier, "", tag)  # fmt: skip

    def redeem(self, w: Wallet, amount_minor: int, at: float, tag: str = "") -> None:
        op = self.operators[w.jurisdiction]
        self.writer.post(w.jurisdiction, w.id, op.id, amount_minor, w.currency, "redeem", at, "",
                         w.jurisdiction, w.jurisdiction, w.tier, 0, "", tag)  # fmt: skip

    def grant_voucher(self, w: Wallet, amount_minor: int, at: float, tag: str = "") -> None:
        e = self.voucher_escrow
        self.writer.post(e.jurisdiction, e.id, w.id, amount_minor, w.currency, "voucher", at, "",
                         e.jurisdiction, w.jurisdiction, 0, w.tier, "", tag)  # fmt: skip

    # --- stablecoin rail ---------------------------------------------------------------------
    def chain_transfer(self, a: Address, b: Address, amount_minor: int, at: float,
                       kind: str = "chain", payment_id: str = "", tag: str = "") -> None:  # fmt: skip
        self.writer.post(a.chain, a.id, b.id, amount_minor, STABLECOIN, kind, at, payment_id,
                         "", "", 0, 0, "", tag)  # fmt: skip

    def buy_tokens(self, ramp: Ramp, payer: Wallet | None, to: Address, cny_major: float,
                   at: float, tag: str = "") -> int:  # fmt: skip
        """On-ramp. KYC'd: the customer's wallet pays the ramp's fiat account and the ramp's hot
        address sends tokens, both legs under one payment_id. Non-KYC: only the chain leg."""
        tokens = self.minor(STABLECOIN, cny_major * 0.995)
        hot = ramp.hot[to.chain]
        if ramp.kyc and payer is not None and ramp.fiat is not None:
            pid = self.payment_id()
            fiat = self.minor(payer.currency, cny_major)
            self.writer.post(payer.jurisdiction, payer.id, ramp.fiat.id, fiat, payer.currency,
                             "onramp", at, pid, payer.jurisdiction, ramp.jurisdiction, payer.tier,
                             0, "", tag)  # fmt: skip
            delay = self.rng.uniform(15.0, 90.0)
            self.chain_transfer(hot, to, tokens, at + delay, "onramp", pid, tag)
        else:
            self.chain_transfer(hot, to, tokens, at, "chain", "", tag)
        return tokens

    def sell_tokens(self, ramp: Ramp, src: Address, payee: Wallet | None, tokens: int,
                    at: float, tag: str = "") -> None:  # fmt: skip
        """Off-ramp: tokens to the ramp's hot address; a KYC'd ramp pays the customer's wallet."""
        hot = ramp.hot[src.chain]
        if ramp.kyc and payee is not None and ramp.fiat is not None:
            pid = self.payment_id()
            self.chain_transfer(src, hot, tokens, at, "offramp", pid, tag)
            fiat = self.convert(tokens, STABLECOIN, payee.currency) * 995 // 1000
            delay = self.rng.uniform(15.0, 90.0)
            self.writer.post(ramp.jurisdiction, ramp.fiat.id, payee.id, fiat, payee.currency,
                             "offramp", at + delay, pid, ramp.jurisdiction, payee.jurisdiction, 0,
                             payee.tier, "", tag)  # fmt: skip
        else:
            self.chain_transfer(src, hot, tokens, at, "chain", "", tag)
