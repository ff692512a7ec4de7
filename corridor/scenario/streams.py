"""Counter-based random streams: reproducible draws keyed by *what* is drawn, not *when*.

A simulation that draws from one sequential generator gives different answers when the
same payments are processed in different batch sizes. For decisions that belong to a
payment or a wallet (which rail a payment takes, whether a wallet has CBDC access, who a
payer's usual counterparties are) we instead hash the identifying integers with SplitMix64
(Steele, Lea & Flood 2014) into a 64-bit value. The same payment therefore gets the same
draw whatever the chunking, and two runs that differ only in stress see the *same* uniform
numbers (common random numbers), so their difference is the effect of the stress alone.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)

# Stream tags keep independent uses of the same seed from producing correlated draws.
STREAM_DEMAND = 1
STREAM_COUNTERPARTY = 2
STREAM_ACCESS = 3
STREAM_RAIL_CHOICE = 4
STREAM_CORRESPONDENT = 5


def splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The SplitMix64 finaliser, element-wise; wraps modulo 2**64 as intended."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def hash_keys(*keys: ArrayLike) -> NDArray[np.uint64]:
    """Hash a tuple of integer keys (scalars or equal-length arrays) to uint64 values."""
    arrays = [np.asarray(k).astype(np.int64, copy=False).view(np.uint64) for k in keys]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    h = np.zeros(shape, dtype=np.uint64)
    for a in arrays:
        h = splitmix64(h ^ a)
    return h


def uniform_from_keys(*keys: ArrayLike) -> NDArray[np.float64]:
    """A uniform draw in [0, 1) per key tuple, from the top 53 bits of the hash."""
    return (hash_keys(*keys) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
