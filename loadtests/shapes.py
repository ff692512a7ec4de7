"""The dollar-contagion load shape for Locust (`-f loadtests/locustfile.py,loadtests/shapes.py`).

Steady -> a x10 surge in which the mix shifts from the stablecoin rail to the CBDC corridor ->
recovery; the schedule lives in `loadtests.stages`. The shape tells the users which stage runs
through the `corridor_stage` option: in a single process they read it directly, and in
master/worker mode the master's options travel to the workers with every spawn message (each
stage change is also a change in user count, so a spawn message always follows it).
"""

from __future__ import annotations

from typing import Any

from locust import LoadTestShape

from loadtests.stages import Stage, contagion_stages, stage_at


class DollarContagionShape(LoadTestShape):
    """Length and base users from `--corridor-minutes` and `--corridor-users`."""

    def __init__(self) -> None:
        super().__init__()
        self._stages: list[Stage] | None = None

    def stages(self) -> list[Stage]:
        if self._stages is None:
            opts = self._options()
            minutes = float(getattr(opts, "corridor_minutes", None) or 5.0)
            users = int(getattr(opts, "corridor_users", None) or 10)
            self._stages = contagion_stages(minutes, users)
        return self._stages

    def _options(self) -> Any:
        runner = self.runner
        return runner.environment.parsed_options if runner is not None else None

    def tick(self) -> tuple[int, float] | None:
        st = stage_at(self.stages(), self.get_run_time())
        if st is None:
            return None
        opts = self._options()
        if opts is not None:
            opts.corridor_stage = st.name
        return st.users, st.spawn_rate
