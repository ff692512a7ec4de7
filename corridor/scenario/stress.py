"""The scenario's stress schedule, evaluated at business times.

A stress event has a plateau (``intensity`` of flight-to-safety news, a volume
``multiplier``, or an outage) reached after ``ramp_hours`` of linear ramp-in and left by a
linear ramp-out of the same length, inside ``[at_hour, at_hour + duration_hours)``.
Overlapping volume events multiply; overlapping flight-to-safety intensities take the max.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from corridor.scenario.schema import KIND_NAMES, RAIL_NAMES, RailName, Scenario, StressEvent


def envelope(event: StressEvent, t_s: NDArray[np.float64]) -> NDArray[np.float64]:
    """0 outside the event, 1 on its plateau, linear on the ramps. ``t_s``: since start."""
    start = event.at_hour * 3600.0
    end = start + event.duration_hours * 3600.0
    inside = (t_s >= start) & (t_s < end)
    if event.ramp_hours <= 0:
        return inside.astype(np.float64)
    ramp = event.ramp_hours * 3600.0
    level = np.minimum(np.minimum((t_s - start) / ramp, (end - t_s) / ramp), 1.0)
    return np.where(inside, np.clip(level, 0.0, 1.0), 0.0)


class StressSchedule:
    """Vectorised view of ``scenario.stress`` for the demand and rail-choice models."""

    def __init__(self, scenario: Scenario) -> None:
        self.events = list(scenario.stress)
        self.corridor_codes = [c.code for c in scenario.directed_corridors]

    def volume_multiplier_grid(self, t_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Multiplier per (time, directed corridor, kind): shape (len(t_s), C, 3)."""
        grid = np.ones((len(t_s), len(self.corridor_codes), len(KIND_NAMES)))
        for ev in self.events:
            if ev.volume_multiplier == 1.0 or ev.kind == "rail_outage":
                continue
            env = envelope(ev, t_s)
            factor = 1.0 + (ev.volume_multiplier - 1.0) * env  # (T,)
            corr_mask = np.array(
                [ev.corridors is None or code in ev.corridors for code in self.corridor_codes]
            )
            kind_mask = np.array([ev.kinds is None or k in ev.kinds for k in KIND_NAMES])
            mask = corr_mask[:, None] & kind_mask[None, :]
            grid *= np.where(mask[None, :, :], factor[:, None, None], 1.0)
        return grid

    def flight_to_safety(self, t_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Scheduled flight-to-safety intensity in [0, 1] at each time."""
        out = np.zeros(len(t_s))
        for ev in self.events:
            if ev.kind == "flight_to_safety":
                out = np.maximum(out, ev.intensity * envelope(ev, t_s))
        return out

    def rail_down(self, t_s: NDArray[np.float64], rail: RailName) -> NDArray[np.bool_]:
        """True where a scheduled outage has ``rail`` down."""
        assert rail in RAIL_NAMES
        out = np.zeros(len(t_s), dtype=bool)
        for ev in self.events:
            if ev.kind == "rail_outage" and ev.rail == rail:
                out |= envelope(ev, t_s) > 0
        return out
