"""Monte Carlo sweeps: one scenario, a grid of parameters x seeds, each run isolated, on Dask.

    corridor sweep --scenario svb-2023 --seeds 20 --grid stablecoin.shocks.1.share=0.5,1.0 \\
        --mode model-only --out results/svb-sweep
    corridor brief results/svb-sweep            # the ensemble briefing

From Python::

    plan = plan_sweep("svb-2023", seeds=[1, 2, 3], grid={"days": [3, 7]}, mode="model-only")
    outcome = run_sweep(plan, Path("results/svb-sweep"), SweepOptions(workers=2))
    outcome.rows            # one dict per run, as in runs.parquet

See README.md in this directory for modes, isolation, determinism and resume.
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: a Dask worker that only executes runs needs corridor.sweep.tasks,
# not the command line, the planner or the scenario loader.
_EXPORTS = {
    "bench_command": "bench",
    "run_sweep_bench": "bench",
    "build_plan": "cli",
    "sweep_command": "cli",
    "WALL_CLOCK_FIGURES": "figures",
    "EXCLUDED_FIGURES": "figures",
    "comparable_figures": "figures",
    "flatten": "figures",
    "SweepError": "plan",
    "SweepPlan": "plan",
    "parse_grid": "plan",
    "plan_sweep": "plan",
    "seed_list": "plan",
    "RunSpec": "runs",
    "SweepOptions": "runner",
    "SweepOutcome": "runner",
    "run_sweep": "runner",
    "ServicesOptions": "tasks",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'corridor.sweep' has no attribute {name!r}")
    return getattr(importlib.import_module(f"corridor.sweep.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "EXCLUDED_FIGURES",
    "WALL_CLOCK_FIGURES",
    "RunSpec",
    "ServicesOptions",
    "SweepError",
    "SweepOptions",
    "SweepOutcome",
    "SweepPlan",
    "bench_command",
    "build_plan",
    "comparable_figures",
    "flatten",
    "parse_grid",
    "plan_sweep",
    "run_sweep",
    "run_sweep_bench",
    "seed_list",
    "sweep_command",
]
