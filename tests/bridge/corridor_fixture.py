"""An in-process corridor for bridge tests: CN and HK (and TH) nodes plus the bridge, each with
its own database, over real gRPC on port 0."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.server import close_platform
from bridge.server import create_server as create_bridge
from corridor.config import JURISDICTIONS, ServiceSettings
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc, node_pb2, node_pb2_grpc
from services.centralbank.server import create_server as create_node

LPS = ("lp-hk-1", "lp-cn-1", "lp-ae-1")


@dataclass
class MiniCorridor:
    nodes: dict[str, Any] = field(default_factory=dict)  # code -> (running, node)
    bridge: Any = None
    platform: Any = None
    urls: dict[str, str] = field(default_factory=dict)
    wallets: dict[str, list[str]] = field(default_factory=dict)

    def target(self, code: str) -> str:
        return f"127.0.0.1:{self.nodes[code][0].port}"

    @property
    def bridge_target(self) -> str:
        return f"127.0.0.1:{self.bridge.port}"

    async def close(self) -> None:
        if self.bridge:
            await self.bridge.stop(0)
            await close_platform(self.platform)
        for running, node in self.nodes.values():
            await running.stop(0)
            node.expiry_task.cancel()
            await node.close()


async def start_corridor(make_db, codes=("CN", "HK"), lp_funding_minor=10**10, wallets_per_node=4,
                         wallet_funding_minor=10**7) -> MiniCorridor:  # fmt: skip
    c = MiniCorridor()
    for code in codes:
        url = await make_db()
        c.urls[code.lower()] = url
        c.nodes[code] = await create_node(ServiceSettings(code.lower(), database_url=url), code)
    url = await make_db()
    c.urls["bridge"] = url
    c.bridge, c.platform = await create_bridge(
        ServiceSettings("bridge", database_url=url), {code: c.target(code) for code in codes}
    )
    for code in codes:
        cur = JURISDICTIONS[code].currency
        async with channel(c.target(code)) as ch:
            cb = node_pb2_grpc.CentralBankStub(ch)
            wl = node_pb2_grpc.WalletsStub(ch)
            for op in ("bank-a", *LPS):
                await cb.RegisterOperator(node_pb2.RegisterOperatorRequest(operator_id=op))
                await cb.Issue(node_pb2.IssueRequest(idempotency_key=f"iss-{op}", operator_id=op,
                                                     amount_minor=10 * lp_funding_minor, currency=cur))  # fmt: skip
            c.wallets[code] = []
            for i in range(wallets_per_node):
                w = await wl.OpenWallet(node_pb2.OpenWalletRequest(idempotency_key=f"w{i}", operator_id="bank-a",
                                                                   kind=2, tier=1, holder_name=f"corp {i}"))  # fmt: skip
                c.wallets[code].append(w.wallet_id)
                await wl.LoadWallet(node_pb2.LoadWalletRequest(idempotency_key=f"l{i}", wallet_id=w.wallet_id,
                                                               amount_minor=wallet_funding_minor, currency=cur))  # fmt: skip
        async with channel(c.bridge_target) as ch:
            br = bridge_pb2_grpc.BridgeStub(ch)
            for lp in LPS:
                await br.FundLiquidity(bridge_pb2.FundLiquidityRequest(
                    idempotency_key=f"fund-{lp}-{code}", liquidity_provider=lp, jurisdiction=code,
                    amount_minor=lp_funding_minor, currency=cur))  # fmt: skip
    return c
