"""The USD-stablecoin rail comparator: issuer and reserves, chains, secondary market, holders, ramps.

Public API (what the scenario engine and the gRPC service call)::

    from services.stablecoin import StablecoinWorld, load_preset, load_stablecoin_spec

    spec = load_preset("svb-2023")                    # or load_stablecoin_spec(dict, source)
    world = StablecoinWorld.from_spec(spec, seed=1)  # start_at defaults to the spec's
    world.advance(4 * 86_400)                         # seconds since start, whole steps
    receipt = world.submit_transfer(1_000_000, "HK-CN", at_s=world.now_s)
    world.summary(); world.timeseries(); world.audit()
"""

from services.stablecoin.calibration import CALIBRATION_TARGETS, calibration_table
from services.stablecoin.model import StablecoinWorld, TransferReceipt
from services.stablecoin.spec import (
    SpecError,
    StablecoinSpec,
    list_presets,
    load_preset,
    load_spec_file,
    load_stablecoin_spec,
)

__all__ = [
    "CALIBRATION_TARGETS",
    "SpecError",
    "StablecoinSpec",
    "StablecoinWorld",
    "TransferReceipt",
    "calibration_table",
    "list_presets",
    "load_preset",
    "load_spec_file",
    "load_stablecoin_spec",
]
