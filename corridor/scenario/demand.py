"""Seeded corridor demand: who pays whom, how much, when — generated in time order, fast.

The run's horizon is cut into fixed 15-minute *buckets*. For every bucket the model knows,
without drawing anything, the relative intensity of each (directed corridor, payment kind)
cell: the corridor's weight x the kind's share x the kind's intraday weight at the payer's
local hour x its weekly weight on the payer's local weekday (x ``weekend_factor`` on the
payer's weekend and holidays) x any stress-schedule volume multiplier. The scenario's total
``payments`` is spread over buckets in proportion to intensity by cumulative rounding, so
the run has exactly that many payments, and each bucket's count is known in advance.

Each bucket then draws its payments from its own generator, seeded by
``(seed, bucket index)``. Generating ``[0, 7d)`` at once or hour by hour therefore yields
the same payments, with the same ids, in the same order. Within a bucket: arrival times
are uniform (then sorted), cells are drawn by intensity, sizes are lognormal per kind,
payers are drawn with activity concentrated on few wallets, and payees are, with the
kind's ``repeat_counterparty`` probability, one of the payer's few usual counterparties
(a deterministic hash of payer and slot, so the same pairs recur all run long).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from corridor.scenario.calendars import local_hour, local_weekday
from corridor.scenario.schema import KIND_NAMES, Scenario
from corridor.scenario.streams import STREAM_COUNTERPARTY, STREAM_DEMAND, hash_keys
from corridor.scenario.stress import StressSchedule

BUCKET_S = 900  # fixed chunk boundaries: determinism does not depend on the caller's chunks
TRADE, RETAIL, REMITTANCE = 0, 1, 2
_CORPORATE, _PERSONAL = 0, 1
# (payer class, payee class) by kind: trade B2B, retail P2B (merchants), remittance P2P.
_PAYER_CLASS = np.array([_CORPORATE, _PERSONAL, _PERSONAL])
_PAYEE_CLASS = np.array([_CORPORATE, _CORPORATE, _PERSONAL])


@dataclass(frozen=True)
class PaymentBatch:
    """Payments as parallel arrays, in time order (then by ``payment_id``).

    ``payment_id`` is the payment's position in the whole run (0 .. payments-1), stable
    across chunkings. ``created_at_s`` is business time in seconds since ``start_at``.
    ``corridor`` indexes ``scenario.directed_corridors``; ``from_j``/``to_j`` index
    ``scenario.jurisdictions``; ``kind`` indexes KIND_NAMES. ``amount_minor`` is in the
    payer's currency, converted from ``amount_usd_minor`` at the reference rate (half up).
    ``payer``/``payee`` index the synthetic wallet population of ``from_j``/``to_j``
    (corporate wallets first).
    """

    payment_id: NDArray[np.int64]
    created_at_s: NDArray[np.float64]
    corridor: NDArray[np.int16]
    from_j: NDArray[np.int8]
    to_j: NDArray[np.int8]
    kind: NDArray[np.int8]
    amount_usd_minor: NDArray[np.int64]
    amount_minor: NDArray[np.int64]
    payer: NDArray[np.int64]
    payee: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.payment_id)

    def created_at_us(self, start_at_us: int) -> NDArray[np.int64]:
        """Business time as unix microseconds (``scenario.start_at_us`` + offset), as the
        shared clock and every record carry it."""
        return start_at_us + np.rint(self.created_at_s * 1e6).astype(np.int64)

    def take(self, index: NDArray[np.int64] | NDArray[np.bool_] | slice) -> PaymentBatch:
        """The payments selected by an index array, boolean mask or slice."""
        return PaymentBatch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def concat(batches: list[PaymentBatch]) -> PaymentBatch:
        if not batches:
            return PaymentBatch.empty()
        return PaymentBatch(
            **{
                f.name: np.concatenate([getattr(b, f.name) for b in batches])
                for f in fields(PaymentBatch)
            }
        )

    @staticmethod
    def empty() -> PaymentBatch:
        return PaymentBatch(
            payment_id=np.empty(0, np.int64),
            created_at_s=np.empty(0, np.float64),
            corridor=np.empty(0, np.int16),
            from_j=np.empty(0, np.int8),
            to_j=np.empty(0, np.int8),
            kind=np.empty(0, np.int8),
            amount_usd_minor=np.empty(0, np.int64),
            amount_minor=np.empty(0, np.int64),
            payer=np.empty(0, np.int64),
            payee=np.empty(0, np.int64),
        )

    def to_frame(self, scenario: Scenario | None = None):  # -> pandas.DataFrame
        """A DataFrame; with ``scenario``, codes (corridor, jurisdictions, currency, kind) too."""
        import pandas as pd

        frame = pd.DataFrame({f.name: getattr(self, f.name) for f in fields(self)})
        if scenario is not None:
            corridors = np.array([c.code for c in scenario.directed_corridors])
            codes = np.array([j.code for j in scenario.jurisdictions])
            currencies = np.array([j.currency for j in scenario.jurisdictions])
            frame["corridor_code"] = corridors[self.corridor]
            frame["from_code"] = codes[self.from_j]
            frame["to_code"] = codes[self.to_j]
            frame["currency"] = currencies[self.from_j]
            frame["kind_name"] = np.array(KIND_NAMES)[self.kind]
        return frame


class DemandModel:
    """Generates a scenario's payments: ``generate(start_s, end_s)`` -> PaymentBatch."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else int(seed)
        corridors = scenario.directed_corridors
        self._corr_from = np.array([c.from_index for c in corridors], dtype=np.int8)
        self._corr_to = np.array([c.to_index for c in corridors], dtype=np.int8)
        self._n_cells = len(corridors) * len(KIND_NAMES)
        self._init_kinds()
        self._init_wallets()
        self._init_fx()
        self._init_buckets()

    # ---- set-up: everything that does not need a random draw

    def _init_kinds(self) -> None:
        kinds = self.scenario.kinds.by_index()
        self._mu = np.array([math.log(k.size.median_usd) for k in kinds])
        self._sigma = np.array([k.size.sigma for k in kinds])
        self._min_usd = np.array([k.size.min_usd for k in kinds])
        self._max_usd = np.array([k.size.max_usd for k in kinds])
        self._repeat = np.array([k.repeat_counterparty for k in kinds])
        self._usual = np.array([k.usual_counterparties for k in kinds], dtype=np.int64)
        self._skew = np.array([k.activity_skew for k in kinds])

    def _init_wallets(self) -> None:
        # lo/size[j, class]: corporate wallets are [0, corporate), personal the rest.
        js = self.scenario.jurisdictions
        corp = np.array([j.corporate_wallets for j in js], dtype=np.int64)
        total = np.array([j.wallets for j in js], dtype=np.int64)
        self._wallet_lo = np.stack([np.zeros_like(corp), corp], axis=1)
        self._wallet_size = np.stack([corp, total - corp], axis=1)

    def _init_fx(self) -> None:
        # amount_minor = usd_minor * rate * 10**exp / 100, as an integer ratio num/den.
        num, den = [], []
        for j in self.scenario.jurisdictions:
            rate = self.scenario.fx[j.currency]
            n, d = rate.numerator * 10**j.currency_exponent, rate.denominator * 100
            g = math.gcd(n, d)
            num.append(n // g)
            den.append(d // g)
        self._fx_num = np.array(num, dtype=np.int64)
        self._fx_den = np.array(den, dtype=np.int64)
        max_usd_minor = int(self._max_usd.max() * 100) + 1
        if 2 * max_usd_minor * int(self._fx_num.max()) > 2**62:
            raise ValueError("fx: a rate's integer ratio is too fine for int64 conversion")

    def _init_buckets(self) -> None:
        sc = self.scenario
        horizon = sc.horizon_s
        n_buckets = max(1, math.ceil(horizon / BUCKET_S))
        self._bucket_start = np.arange(n_buckets, dtype=np.float64) * BUCKET_S
        self._bucket_len = np.minimum(BUCKET_S, horizon - self._bucket_start)
        intensity = self._intensity(self._bucket_start + self._bucket_len / 2)
        intensity *= (self._bucket_len / BUCKET_S)[:, None]
        per_bucket = intensity.sum(axis=1)
        cumulative = np.cumsum(per_bucket)
        total = cumulative[-1]
        if total <= 0 or sc.payments == 0:
            target = np.zeros(n_buckets, dtype=np.int64)
        else:
            target = np.floor(sc.payments * cumulative / total + 0.5).astype(np.int64)
            target[-1] = sc.payments
        self.counts = np.diff(target, prepend=0)
        self._first_id = target - self.counts
        safe = np.where(per_bucket > 0, per_bucket, 1.0)
        self._cell_cum = np.cumsum(intensity, axis=1) / safe[:, None]
        self._cell_cum[:, -1] = 1.0

    def _intensity(self, t_mid: NDArray[np.float64]) -> NDArray[np.float64]:
        """Relative intensity per (bucket, cell); cell = corridor * 3 + kind."""
        sc = self.scenario
        epoch = sc.start_epoch_s + t_mid
        n_j = len(sc.jurisdictions)
        patterns = sc.patterns.by_index()
        # factor[j, b, k]: the kind's rhythm in jurisdiction j's local time.
        factor = np.empty((n_j, len(t_mid), len(KIND_NAMES)))
        for j, jur in enumerate(sc.jurisdictions):
            hour = local_hour(epoch, jur.utc_offset_s)
            weekday = local_weekday(epoch, jur.utc_offset_s)
            day = np.floor_divide(epoch + jur.utc_offset_s, 86_400).astype(np.int64)
            off = np.isin(weekday, [WEEKDAY_INDEX[d] for d in jur.weekend])
            if jur.holidays:
                off |= np.isin(day, np.array(jur.holidays, dtype="datetime64[D]").astype(np.int64))
            for k, p in enumerate(patterns):
                intraday = np.asarray(p.intraday) / np.mean(p.intraday)
                weekly = np.asarray(p.weekly) / np.mean(p.weekly)
                factor[j, :, k] = (
                    intraday[hour] * weekly[weekday] * np.where(off, p.weekend_factor, 1.0)
                )
        corridors = sc.directed_corridors
        base = np.array([[c.weight * s for s in c.kind_shares] for c in corridors])  # (C, 3)
        per_cell = factor[self._corr_from.astype(np.int64)].transpose(1, 0, 2) * base[None]
        per_cell = per_cell * StressSchedule(sc).volume_multiplier_grid(t_mid)
        return per_cell.reshape(len(t_mid), self._n_cells)

    # ---- generation

    @property
    def total_payments(self) -> int:
        return int(self.counts.sum())

    def generate(self, start_s: float = 0.0, end_s: float | None = None) -> PaymentBatch:
        """Every payment created in ``[start_s, end_s)`` (seconds since start_at), in order."""
        end_s = self.scenario.horizon_s if end_s is None else end_s
        if end_s <= start_s:
            return PaymentBatch.empty()
        first = max(0, int(start_s // BUCKET_S))
        last = min(len(self.counts), math.ceil(end_s / BUCKET_S))
        batches = []
        for b in range(first, last):
            batch = self._bucket(b)
            t = batch.created_at_s
            if self._bucket_start[b] < start_s or self._bucket_start[b] + BUCKET_S > end_s:
                batch = batch.take((t >= start_s) & (t < end_s))
            batches.append(batch)
        return PaymentBatch.concat(batches)

    def iter_batches(
        self, chunk_s: float = 3600.0, start_s: float = 0.0, end_s: float | None = None
    ) -> Iterator[PaymentBatch]:
        """Consecutive time-ordered chunks covering ``[start_s, end_s)``."""
        end_s = self.scenario.horizon_s if end_s is None else end_s
        t = start_s
        while t < end_s:
            upper = min(t + chunk_s, end_s)
            yield self.generate(t, upper)
            t = upper

    def _bucket(self, b: int) -> PaymentBatch:
        n = int(self.counts[b])
        if n == 0:
            return PaymentBatch.empty()
        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence([self.seed, STREAM_DEMAND, b]))
        )
        created = np.sort(self._bucket_start[b] + rng.random(n) * self._bucket_len[b])
        cell = np.searchsorted(self._cell_cum[b], rng.random(n), side="right")
        cell = np.minimum(cell, self._n_cells - 1)
        corridor = cell // len(KIND_NAMES)
        kind = cell % len(KIND_NAMES)
        from_j = self._corr_from[corridor].astype(np.int64)
        to_j = self._corr_to[corridor].astype(np.int64)

        usd = np.exp(self._mu[kind] + self._sigma[kind] * rng.standard_normal(n))
        usd = np.clip(usd, self._min_usd[kind], self._max_usd[kind])
        amount_usd_minor = np.rint(usd * 100.0).astype(np.int64)
        num, den = self._fx_num[from_j], self._fx_den[from_j]
        amount_minor = (2 * amount_usd_minor * num + den) // (2 * den)

        payer = self._draw_wallet(from_j, _PAYER_CLASS[kind], self._skew[kind], rng.random(n))
        repeat = rng.random(n) < self._repeat[kind]
        slot = np.floor(rng.random(n) * self._usual[kind]).astype(np.int64)
        payee_random = self._draw_wallet(to_j, _PAYEE_CLASS[kind], self._skew[kind], rng.random(n))
        usual = hash_keys(self.seed, STREAM_COUNTERPARTY, from_j, payer, to_j, kind, slot)
        cls = _PAYEE_CLASS[kind]
        size = self._wallet_size[to_j, cls].astype(np.uint64)
        payee_usual = self._wallet_lo[to_j, cls] + (usual % size).astype(np.int64)
        return PaymentBatch(
            payment_id=self._first_id[b] + np.arange(n, dtype=np.int64),
            created_at_s=created,
            corridor=corridor.astype(np.int16),
            from_j=from_j.astype(np.int8),
            to_j=to_j.astype(np.int8),
            kind=kind.astype(np.int8),
            amount_usd_minor=amount_usd_minor,
            amount_minor=amount_minor,
            payer=payer,
            payee=np.where(repeat, payee_usual, payee_random),
        )

    def _draw_wallet(
        self,
        j: NDArray[np.int64],
        cls: NDArray[np.int64],
        skew: NDArray[np.float64],
        u: NDArray[np.float64],
    ) -> NDArray[np.int64]:
        # u**skew piles draws onto low indices: a few very active wallets, a long tail.
        size = self._wallet_size[j, cls]
        offset = np.minimum(np.floor(size * u**skew).astype(np.int64), size - 1)
        return self._wallet_lo[j, cls] + offset


WEEKDAY_INDEX = {d: i for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
