"""A public chain: blocks, capacity, a fee market, a mempool ordered by fee, finality.

Two fee markets:

**EIP-1559 (Ethereum).** Each block has a gas target ``T`` and a hard limit ``L = 2T``. The base
fee moves with fullness: ``b' = b * (1 + (used - T) / (8 T))``, at most +12.5 % per block, and a
priority tip orders the mempool. Background demand (everything that is not our corridor) is a
power law in the fee, ``G(b) = T * load * (b / b_ref) ** -elasticity``, so the quiet-market fee is
``b_ref`` at ``load = 1`` and a run that doubles on-chain activity raises it. Simulating 50,000
blocks a week one by one would cost more than the whole rest of the model, so the chain is
advanced in closed form: with ``z = (b / b*) ** e`` (``b*`` the fee that clears demand at the
target), blocks are full and the fee rises exactly 12.5 % per block while ``z < 1/2``
(demand above the limit); after that ``dz/dblock = e * ln(1.125) * (1 - z)``, the continuous
version of the EIP-1559 update scaled so one block never moves the fee by more than 12.5 %.
Gas used over a span has a closed form too.

While blocks are full, only tips above the marginal tier get in; a corridor transfer bidding less
waits for the first block that is not full. Corridor transfers are real entries in the mempool:
each takes gas in its inclusion block, and a block never holds more than its limit.

**Tron energy.** Energy has a governance-set price (sun per energy), so fees do not rise with
congestion; instead a queue forms when demand exceeds capacity and transfers wait their turn
(first in, first out: everyone bids the same).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.stablecoin.spec import ChainSpec

KAPPA = math.log(1.125)  # the per-block log change of the base fee at a full block
GWEI = 1e-9
SUN = 1e-6


@dataclass(frozen=True, slots=True)
class ChainInclusion:
    """Where and when a transfer lands, and what the chain charged for it."""

    chain: str
    block_number: int
    included_at_s: float
    finality_at_s: float
    fee_minor: int  # US cents
    base_fee: float  # gwei (Ethereum) or sun per energy (Tron) in the inclusion block
    tip: float
    wait_blocks: int


class Chain:
    """One chain on the business clock (seconds since the run's start)."""

    def __init__(self, name: str, spec: ChainSpec) -> None:
        self.name = name
        self.spec = spec
        self.eip1559 = spec.fee_market == "eip1559"
        self.t_s = 0.0
        self.load = spec.background_load
        self.base_fee = self._equilibrium_fee() if self.eip1559 else spec.base_fee_ref
        self.backlog_gas = 0.0  # Tron's FIFO queue of background demand
        self.gas_used_total = 0.0
        self.blocks_total = 0
        self.base_fee_max = self.base_fee
        self.full_blocks_total = 0
        self._explicit: dict[int, int] = {}  # block -> gas of corridor transfers in it
        self._tiers = sorted(spec.tips.items(), key=lambda kv: -kv[1])
        self.transfers = 0
        self.transfer_fee_max_minor = 0

    # ---- demand and the base fee

    @property
    def target(self) -> float:
        return float(self.spec.gas_target_per_block)

    @property
    def limit(self) -> float:
        return float(self.spec.gas_limit_per_block)

    def set_stress_gas(self, gas_per_block: float) -> None:
        """Extra on-chain activity from the run (transfers to venues, swaps) for the next interval."""
        self.load = self.spec.background_load + max(0.0, gas_per_block) / self.target

    def _equilibrium_fee(self) -> float:
        return self.spec.base_fee_ref * max(self.load, 1e-9) ** (1.0 / self.spec.demand_elasticity)

    def demand(self, base_fee: float) -> float:
        """Background gas demanded per block at ``base_fee``."""
        if not self.eip1559:
            return self.target * self.load
        e = self.spec.demand_elasticity
        return self.target * self.load * (base_fee / self.spec.base_fee_ref) ** -e

    def _z(self, base_fee: float) -> float:
        return (base_fee / self._equilibrium_fee()) ** self.spec.demand_elasticity

    def _cap_blocks(self, z0: float) -> int:
        """Blocks (from a state with ``z0``) during which demand exceeds the block limit."""
        if z0 >= 0.5:
            return 0
        return math.ceil(math.log(0.5 / z0) / (self.spec.demand_elasticity * KAPPA))

    def base_fee_after(self, blocks: float) -> float:
        """Base fee ``blocks`` blocks after the current state, under the current load."""
        if not self.eip1559 or blocks <= 0:
            return self.base_fee
        e = self.spec.demand_elasticity
        b_star = self._equilibrium_fee()
        z0 = self._z(self.base_fee)
        j_cap = self._cap_blocks(z0)
        if blocks <= j_cap:
            return self.base_fee * 1.125**blocks
        z_c = z0 * 1.125 ** (e * j_cap) if j_cap else z0
        z = 1.0 + (z_c - 1.0) * math.exp(-e * KAPPA * (blocks - j_cap))
        return b_star * z ** (1.0 / e)

    def _gas_used(self, blocks: int) -> tuple[float, int]:
        """Background gas used over the next ``blocks`` blocks, and how many were full."""
        if not self.eip1559:
            served = min(self.limit * blocks, self.backlog_gas + self.demand(0.0) * blocks)
            full = (
                blocks if self.backlog_gas + self.demand(0.0) * blocks > self.limit * blocks else 0
            )
            return served, full
        e = self.spec.demand_elasticity
        z0 = self._z(self.base_fee)
        j_cap = min(blocks, self._cap_blocks(z0))
        used = self.limit * j_cap
        m = blocks - j_cap
        if m > 0:
            z_c = z0 * 1.125 ** (e * j_cap) if j_cap else z0
            a = e * KAPPA
            c = z_c - 1.0
            used += self.target * (m + math.log((1.0 + c * math.exp(-a * m)) / (1.0 + c)) / a)
        return used, j_cap

    def block_at(self, t_s: float) -> int:
        """Number of the last block produced at or before ``t_s`` (block k at k * block_time)."""
        return int(t_s // self.spec.block_time_s)

    def advance(self, to_s: float) -> None:
        """Produce the blocks up to ``to_s`` under the current load."""
        if to_s <= self.t_s:
            return
        n = self.block_at(to_s) - self.block_at(self.t_s)
        if n > 0:
            used, full = self._gas_used(n)
            if self.eip1559:
                self.base_fee = self.base_fee_after(n)
                self.base_fee_max = max(self.base_fee_max, self.base_fee)
            else:
                arrived = self.demand(0.0) * n
                self.backlog_gas = max(0.0, self.backlog_gas + arrived - used)
            self.gas_used_total += used
            self.full_blocks_total += full
            self.blocks_total += n
            last = self.block_at(to_s)
            if self._explicit and min(self._explicit) <= last:
                self._explicit = {k: g for k, g in self._explicit.items() if k > last}
        self.t_s = to_s

    # ---- the mempool as seen by a corridor transfer

    def pending_gas(self) -> float:
        """Gas waiting in the mempool now (background left out of full blocks + our transfers)."""
        explicit = float(sum(self._explicit.values()))
        if not self.eip1559:
            return self.backlog_gas + explicit
        over = self.demand(self.base_fee) - self.limit
        return max(0.0, over) * self.spec.replacement_window_blocks + explicit

    def _tier_share_above(self, tip: float) -> tuple[float, float]:
        """Shares of background demand bidding strictly more than, and at least, ``tip``."""
        above = sum(self.spec.tip_shares[n] for n, t in self._tiers if t > tip)
        at_least = sum(self.spec.tip_shares[n] for n, t in self._tiers if t >= tip)
        return above, at_least

    def include(self, at_s: float, tip_tier: str) -> ChainInclusion:
        """Put one token transfer in the mempool at ``at_s`` and find its block (deterministic)."""
        if at_s < self.t_s:
            raise ValueError(f"at_s {at_s} is before the chain's clock {self.t_s}")
        spec = self.spec
        gas = spec.gas_per_transfer
        tip = spec.tips.get(tip_tier, 0.0)
        k_now = self.block_at(self.t_s)
        k = self.block_at(at_s) + 1  # the first block after submission
        if self.eip1559:
            k = self._first_block_with_room(k, k_now, tip, gas)
        else:
            backlog = max(0.0, self.backlog_gas + (self.demand(0.0) - self.limit) * (k - k_now - 1))
            ahead = backlog + sum(g for b, g in self._explicit.items() if b >= k)
            k += max(0, math.ceil((ahead + gas) / self.limit) - 1)
        self._explicit[k] = self._explicit.get(k, 0) + gas
        base = self.base_fee_after(k - k_now - 1)
        fee_minor = self._fee_minor(base, tip, gas)
        included_at = k * spec.block_time_s
        self.transfers += 1
        self.transfer_fee_max_minor = max(self.transfer_fee_max_minor, fee_minor)
        return ChainInclusion(
            chain=self.name,
            block_number=k,
            included_at_s=included_at,
            finality_at_s=included_at + spec.finality_blocks * spec.block_time_s,
            fee_minor=fee_minor,
            base_fee=base,
            tip=tip,
            wait_blocks=k - self.block_at(at_s),
        )

    def _first_block_with_room(self, k: int, k_now: int, tip: float, gas: int) -> int:
        z0 = self._z(self.base_fee)
        j_cap = self._cap_blocks(z0)
        for _ in range(100_000):
            j = k - k_now - 1  # blocks between the current state and block k
            base = self.base_fee_after(j)
            demand = self.demand(base)
            above, at_least = self._tier_share_above(tip)
            if j < j_cap and demand * at_least > self.limit:
                # Full block and our tier is not fully served: wait for the first non-full block.
                k = k_now + 1 + j_cap
                continue
            # Background gas that outbids us (a full block) or simply fills the block (not full).
            background = demand * above if j < j_cap else min(demand, self.limit)
            if self._explicit.get(k, 0) + gas <= self.limit - background:
                return k
            k += 1
        raise RuntimeError("no block with room within 100,000 blocks")

    def _fee_minor(self, base: float, tip: float, gas: int) -> int:
        spec = self.spec
        if self.eip1559:
            native = (base + tip) * GWEI * gas
        else:
            native = base * SUN * gas
        usd = native * spec.native_usd + spec.bandwidth_fee_usd
        return max(1, round(usd * 100.0))

    def transfer_fee_minor_now(self, tip_tier: str) -> int:
        """What a transfer would pay in the next block (for time series and quotes)."""
        return self._fee_minor(self.base_fee, self.spec.tips.get(tip_tier, 0.0),
                               self.spec.gas_per_transfer)  # fmt: skip
