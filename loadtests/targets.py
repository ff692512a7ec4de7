"""Where the load goes: the gRPC endpoints of a running corridor.

Resolution, first match wins (the same variables the services themselves read):
1. `CORRIDOR_NODES="CN=host:port,HK=host:port"` for the central-bank nodes, and
   `CORRIDOR_BRIDGE_TARGET`, `CORRIDOR_VOUCHERS_TARGET`, `CORRIDOR_STABLECOIN_TARGET`,
   `CORRIDOR_SUPERVISION_TARGET` for the other services;
2. the endpoints `corridor up` wrote to `<CORRIDOR_HOME or .corridor>/up.json`.

This module imports neither grpc nor locust, so the CLI, the bench and the Locust processes can
all use it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from corridor.config import JURISDICTIONS, state_dir

OPTIONAL_SERVICES = ("bridge", "vouchers", "stablecoin", "supervision")


class TargetsNotFound(RuntimeError):
    """Nothing says where the corridor runs (no environment, no `corridor up` state)."""


@dataclass(frozen=True)
class Targets:
    nodes: dict[str, str]  # jurisdiction code -> host:port
    services: dict[str, str] = field(default_factory=dict)  # bridge/vouchers/... -> host:port

    @property
    def bridge(self) -> str | None:
        return self.services.get("bridge")

    @property
    def vouchers(self) -> str | None:
        return self.services.get("vouchers")

    def endpoints(self) -> dict[str, str]:
        """Names as `corridor up` prints them: cn, hk, ..., bridge, vouchers."""
        return {**{c.lower(): t for c, t in self.nodes.items()}, **self.services}

    def to_env(self) -> dict[str, str]:
        """The environment that makes `discover()` in a child process find these targets."""
        env = {"CORRIDOR_NODES": ",".join(f"{c}={t}" for c, t in self.nodes.items())}
        for name, target in self.services.items():
            env[f"CORRIDOR_{name.upper()}_TARGET"] = target
        return env

    @classmethod
    def from_endpoints(cls, endpoints: dict[str, str]) -> Targets:
        nodes = {k.upper(): v for k, v in endpoints.items() if k.upper() in JURISDICTIONS}
        services = {k: v for k, v in endpoints.items() if k in OPTIONAL_SERVICES}
        return cls(nodes, services)


def parse_nodes(raw: str) -> dict[str, str]:
    """`CN=127.0.0.1:50051,HK=...` -> {"CN": "127.0.0.1:50051", ...}; names the bad part."""
    nodes: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        code, sep, target = part.partition("=")
        code = code.strip().upper()
        if not sep or code not in JURISDICTIONS or ":" not in target:
            raise ValueError(
                f"CORRIDOR_NODES: {part!r} is not CODE=host:port with CODE one of "
                f"{', '.join(JURISDICTIONS)}"
            )
        nodes[code] = target.strip()
    return nodes


def discover(state: Path | None = None, environ: dict[str, str] | None = None) -> Targets:
    env = os.environ if environ is None else environ
    if env.get("CORRIDOR_NODES"):
        services = {
            name: env[f"CORRIDOR_{name.upper()}_TARGET"]
            for name in OPTIONAL_SERVICES
            if env.get(f"CORRIDOR_{name.upper()}_TARGET")
        }
        return Targets(parse_nodes(env["CORRIDOR_NODES"]), services)
    path = (state or state_dir()) / "up.json"
    if not path.exists():
        raise TargetsNotFound(
            f"no running corridor found (no CORRIDOR_NODES and no {path}); "
            "start one with `corridor up --detach`"
        )
    return Targets.from_endpoints(json.loads(path.read_text())["endpoints"])
