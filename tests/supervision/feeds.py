"""Small hand-written feeds for detector tests: a world, named wallets, explicit payments."""

from __future__ import annotations

from dataclasses import replace

from services.supervision.detectors import Alert, DetectorPolicy, DetectorSuite
from services.supervision.postings import Posting
from services.supervision.world import DAY_S, HOUR_S, MINUTE_S, T0, CorridorWorld

__all__ = ["DAY_S", "HOUR_S", "MINUTE_S", "START", "Feed", "run"]

START = T0 + 2 * DAY_S  # after the detectors' one-day warm-up


class Feed(CorridorWorld):
    """A CorridorWorld used as a feed builder: `yuan(x)` is x CNY in minor units."""

    def __init__(self, seed: int = 1) -> None:
        super().__init__(seed=seed, days=7)

    @staticmethod
    def yuan(major: float) -> int:
        return round(major * 100)

    def postings(self) -> list[Posting]:
        postings, _ = self.writer.finalize()
        return postings


def run(postings: list[Posting], policy: DetectorPolicy | None = None, **changes) -> list[Alert]:
    """Feed postings in order to a fresh suite, flush, return every alert."""
    policy = replace(policy or DetectorPolicy(), **changes)
    suite = DetectorSuite(policy)
    alerts = suite.observe_all(postings)
    return alerts + suite.flush()


def of(alerts: list[Alert], typology: str) -> list[Alert]:
    return [a for a in alerts if a.typology == typology]
