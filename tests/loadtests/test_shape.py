"""The dollar-contagion shape: steady -> x10 surge (mix shifting to the CBDC corridor) -> recovery."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from loadtests.stages import (
    CORRIDOR_RAIL,
    NEUTRAL_RAIL,
    STABLECOIN_RAIL,
    contagion_stages,
    pace,
    stage_at,
)


def test_stages_run_steady_then_a_tenfold_surge_then_recovery() -> None:
    stages = contagion_stages(minutes=10, base_users=7)
    assert [s.name for s in stages] == ["steady", "surge", "recovery"]
    assert [s.users for s in stages] == [7, 70, 7]
    assert [s.end_s for s in stages] == [180, 420, 600]
    assert stage_at(stages, 0).name == "steady"
    assert stage_at(stages, 179.9).name == "steady"
    assert stage_at(stages, 180).name == "surge"
    assert stage_at(stages, 599).name == "recovery"
    assert stage_at(stages, 600) is None


def test_the_surge_shifts_the_mix_from_the_stablecoin_rail_to_the_corridor() -> None:
    # Per rail, steady demand is 1 (users x calls per user, equal shares). In the surge the users
    # are x10; the corridor's calls per user speed up, the stablecoin rail's slow down.
    corridor = 10 / pace(CORRIDOR_RAIL, "surge")
    stablecoin = 10 / pace(STABLECOIN_RAIL, "surge")
    assert (corridor + stablecoin) / (1 + 1) == pytest.approx(10.0)  # total demand x10
    assert corridor / (corridor + stablecoin) == pytest.approx(0.9)
    assert pace(CORRIDOR_RAIL, "steady") == pace(STABLECOIN_RAIL, "steady") == 1.0
    assert pace(NEUTRAL_RAIL, "surge") == 1.0


def test_bad_shape_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="minutes"):
        contagion_stages(0, 5)
    with pytest.raises(ValueError, match="users"):
        contagion_stages(1, 0)


PROBE = """
import json, types
import loadtests.locustfile as lf
from loadtests.shapes import DollarContagionShape
users = sorted(n for n, v in vars(lf).items() if isinstance(v, type) and issubclass(v, lf.GrpcUser)
               and not v.abstract)
shape = DollarContagionShape()
opts = types.SimpleNamespace(corridor_minutes=1.0, corridor_users=3)
shape.runner = types.SimpleNamespace(environment=types.SimpleNamespace(parsed_options=opts))
ticks = []
for t in [0, 10, 17.9, 18, 30, 41.9, 42, 59.9, 60]:
    shape.get_run_time = lambda t=t: t
    tick = shape.tick()
    ticks.append([t, tick and list(tick), getattr(opts, "corridor_stage", None)])
print(json.dumps({"users": users, "ticks": ticks}))
"""


def test_locustfile_imports_and_its_shape_yields_the_stage_sequence() -> None:
    # Importing Locust monkey-patches the interpreter for gevent: do it in a process of its own.
    env_free = {"CORRIDOR_NODES": "CN=127.0.0.1:1,HK=127.0.0.1:2", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60, env=env_free, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"DomesticPaymentUser", "CrossBorderUser", "LatencyProbeUser"} <= set(got["users"])
    # Only the nodes are named: the optional services' users are switched off.
    assert "VoucherRedemptionUser" not in got["users"]
    stages = [(t, tick[0] if tick else None, stage) for t, tick, stage in got["ticks"]]
    assert stages == [
        (0, 3, "steady"), (10, 3, "steady"), (17.9, 3, "steady"),
        (18, 30, "surge"), (30, 30, "surge"), (41.9, 30, "surge"),
        (42, 3, "recovery"), (59.9, 3, "recovery"), (60, None, "recovery"),
    ]  # fmt: skip
