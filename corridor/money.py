"""Money: integer minor units plus an ISO-4217 code. FX as exact ratios with explicit rounding."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from fractions import Fraction

# Minor-unit exponent of each currency Corridor knows.
MINOR_UNITS: dict[str, int] = {"CNY": 2, "HKD": 2, "THB": 2, "AED": 2, "SAR": 2, "USD": 2}
INT64_MAX = (1 << 63) - 1


def known_currency(code: str) -> bool:
    return code in MINOR_UNITS


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int):
            raise TypeError("amount_minor must be an int (minor units), never a float")
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unknown currency {self.currency!r}")

    @classmethod
    def of(cls, major: str | int | Decimal, currency: str) -> Money:
        """Money from a major-unit decimal string, e.g. Money.of("12.34", "CNY")."""
        q = Decimal(str(major)) * (10 ** MINOR_UNITS[currency])
        if q != q.to_integral_value():
            raise ValueError(f"{major} has more decimals than {currency} allows")
        return cls(int(q), currency)

    def __str__(self) -> str:
        return format_minor(self.amount_minor, self.currency)


def format_minor(amount_minor: int, currency: str) -> str:
    exp = MINOR_UNITS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    whole, frac = divmod(abs(amount_minor), 10**exp)
    return f"{sign}{whole:,}.{frac:0{exp}d} {currency}"


@dataclass(frozen=True, slots=True)
class FxRate:
    """Units of `quote` per one unit of `base`, held as an exact fraction (never a float)."""

    base: str
    quote: str
    rate: Fraction

    @classmethod
    def parse(cls, base: str, quote: str, rate: str | Decimal | Fraction) -> FxRate:
        return cls(
            base, quote, Fraction(Decimal(str(rate))) if not isinstance(rate, Fraction) else rate
        )

    def convert(self, amount_minor: int) -> tuple[int, Fraction]:
        """Convert base minor units to quote minor units, rounding DOWN (the payee never gets a
        fraction the ledger cannot hold). Returns (amount, remainder in quote minor units) so the
        remainder can be accounted for rather than lost."""
        # Integer arithmetic on the ratio's parts: exact, and no Fraction built per call (this is
        # on every cross-border payment's path).
        num = amount_minor * self.rate.numerator * 10 ** MINOR_UNITS[self.quote]
        den = self.rate.denominator * 10 ** MINOR_UNITS[self.base]
        whole, rest = divmod(num, den)
        return whole, Fraction(rest, den)

    def inverse(self) -> FxRate:
        return FxRate(self.quote, self.base, 1 / self.rate)

    def decimal(self, places: int = 6) -> Decimal:
        q = Decimal(self.rate.numerator) / Decimal(self.rate.denominator)
        return q.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def bps(part_minor: int, whole_minor: int) -> float:
    """Cost in basis points (a ratio for reports, not money)."""
    return 0.0 if whole_minor == 0 else part_minor * 10_000 / whole_minor


def round_down_minor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_DOWN))
