"""One cross-border payment arrives at a real OTLP/gRPC receiver as ONE trace spanning every
service it touched (client, bridge, payer's node, payee's node).

The receiver is the official `TraceServiceServicer` from `opentelemetry-proto` served by grpcio:
it speaks the real wire protocol, and the services' OTLP exporters cannot tell it from a collector.
The services run as separate OS processes with OTEL_EXPORTER_OTLP_ENDPOINT pointing at it.
"""

from __future__ import annotations

import asyncio
import time
from concurrent import futures

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.propagate import inject
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import set_span_in_context

from corridor import pg
from corridor.bench import free_port
from corridor.fleet import Fleet
from corridor.scenario.services import central_bank, liquidity_provider, operator
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc, node_pb2, node_pb2_grpc


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list[tuple[str, bytes, str, dict]] = []  # (service, trace id, name, attrs)

    def Export(self, request, context):
        for rs in request.resource_spans:
            svc = next(
                (a.value.string_value for a in rs.resource.attributes if a.key == "service.name"),
                "?",
            )
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    attrs = {a.key: a.value for a in sp.attributes}
                    self.spans.append((svc, sp.trace_id, sp.name, attrs))
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
def collector():
    c = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(c, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield c, port
    server.stop(0)


async def _setup(endpoints: dict[str, str]) -> tuple[str, str]:
    wallets = {}
    for code, cur in (("CN", "CNY"), ("HK", "HKD")):
        async with channel(endpoints[code.lower()]) as ch:
            cb, wl = node_pb2_grpc.CentralBankStub(ch), node_pb2_grpc.WalletsStub(ch)
            for op in ("bank-a", "lp-hk-1"):
                await cb.RegisterOperator(node_pb2.RegisterOperatorRequest(operator_id=op),
                                          metadata=central_bank(code))  # fmt: skip
                await cb.Issue(node_pb2.IssueRequest(idempotency_key=f"i-{op}", operator_id=op,
                                                     amount_minor=10**10, currency=cur),
                               metadata=central_bank(code))  # fmt: skip
            w = await wl.OpenWallet(node_pb2.OpenWalletRequest(idempotency_key="w", operator_id="bank-a", kind=2,
                                                               tier=1, holder_name="corp"),
                                    metadata=operator(code))  # fmt: skip
            await wl.LoadWallet(node_pb2.LoadWalletRequest(idempotency_key="l", wallet_id=w.wallet_id,
                                                           amount_minor=10**8, currency=cur),
                                metadata=operator(code))  # fmt: skip
            wallets[code] = w.wallet_id
        async with channel(endpoints["bridge"]) as ch:
            await bridge_pb2_grpc.BridgeStub(ch).FundLiquidity(bridge_pb2.FundLiquidityRequest(
                idempotency_key=f"f-{code}", liquidity_provider="lp-hk-1", jurisdiction=code,
                amount_minor=10**9, currency=cur), metadata=liquidity_provider("lp-hk-1"))  # fmt: skip
    return wallets["CN"], wallets["HK"]


# Runs with Corridor's defaults (mTLS + credentials): the trace context rides beside the credential.
@pytest.mark.usefixtures("default_security")
def test_one_payment_is_one_trace_across_every_service(collector, make_db, pg_server_url, tmp_path):
    col, port = collector
    urls = {n: asyncio.run(make_db()) for n in ("cn", "hk", "bridge")}
    names = ["cn", "hk", "bridge"]
    fleet = Fleet.plan(tmp_path, pg_server_url, names, {n: free_port() for n in names})
    fleet.extra_env = {
        **{f"CORRIDOR_DATABASE_URL_{n.upper()}": u for n, u in urls.items()},
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    assert fleet.security.mode == "on"  # the default: no plaintext flag in this test
    fleet.start()
    try:
        payer, payee = asyncio.run(_setup(fleet.endpoints()))
        provider = TracerProvider(resource=Resource.create({"service.name": "test-client"}))
        provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"127.0.0.1:{port}", insecure=True))
        )
        tracer = provider.get_tracer("test")

        async def pay() -> str:
            with tracer.start_as_current_span("cross-border payment") as span:
                carrier: dict[str, str] = {}
                inject(carrier, context=set_span_in_context(span))
                async with channel(fleet.endpoints()["bridge"]) as ch:
                    r = await bridge_pb2_grpc.BridgeStub(ch).CrossBorderPay(
                        bridge_pb2.CrossBorderPayRequest(
                            idempotency_key="traced-1", payer_jurisdiction="CN", payer_wallet_id=payer,
                            payee_jurisdiction="HK", payee_wallet_id=payee, amount_minor=123_456, currency="CNY"),
                        metadata=[*operator("CN"), *carrier.items()],
                    )  # fmt: skip
                assert r.status == bridge_pb2.PAYMENT_STATUS_SETTLED
                return span.get_span_context().trace_id.to_bytes(16, "big")

        trace_id = asyncio.run(pay())
        provider.shutdown()
        wanted = {"test-client", "corridor-bridge", "corridor-cn", "corridor-hk"}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            services = {svc for svc, tid, _, _ in col.spans if tid == trace_id}
            if wanted <= services:
                break
            time.sleep(0.2)
        mine = [(svc, name) for svc, tid, name, _ in col.spans if tid == trace_id]
        assert wanted <= {svc for svc, _ in mine}, mine
        names_seen = {name for _, name in mine}
        assert {"pvp.prepare", "pvp.resolve"} <= names_seen
        # Spans carry the payment id and amounts, never identities.
        bridge_attrs = [
            a for svc, tid, _, a in col.spans if tid == trace_id and svc == "corridor-bridge"
        ]
        assert any("corridor.payment_id" in a for a in bridge_attrs)
        flat = repr([a for _, tid, _, a in col.spans if tid == trace_id])
        assert "corp" not in flat  # the KYC holder name never appears
    finally:
        fleet.stop()
        _ = pg
