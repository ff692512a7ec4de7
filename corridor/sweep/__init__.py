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

from corridor.sweep.bench import bench_command, run_sweep_bench
from corridor.sweep.cli import build_plan, sweep_command
from corridor.sweep.figures import WALL_CLOCK_FIGURES, comparable_figures, flatten
from corridor.sweep.plan import RunSpec, SweepError, SweepPlan, parse_grid, plan_sweep, seed_list
from corridor.sweep.runner import SweepOptions, SweepOutcome, run_sweep
from corridor.sweep.tasks import ServicesOptions

__all__ = [
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
