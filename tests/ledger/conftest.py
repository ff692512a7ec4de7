"""Ledger fixtures: an engine on a fresh database, and a Ledger gRPC server over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from corridor.server import RunningServer, start_server
from corridor.v1 import ledger_pb2_grpc
from services.ledger.engine import LedgerEngine
from services.ledger.servicer import LedgerServicer


@pytest.fixture
async def engine(fresh_db: str) -> AsyncIterator[LedgerEngine]:
    e = await LedgerEngine.open(fresh_db, "T")
    yield e
    await e.close()


@dataclass
class LedgerUnderTest:
    """A real Ledger gRPC server (port 0) over a real engine and database."""

    engine: LedgerEngine
    running: RunningServer
    dsn: str

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.running.port}"


@pytest.fixture
async def ledger_server(fresh_db: str) -> AsyncIterator[LedgerUnderTest]:
    e = await LedgerEngine.open(fresh_db, "T")
    running = await start_server(
        [
            (
                ledger_pb2_grpc.add_LedgerServicer_to_server,
                LedgerServicer(e, "T"),
                "corridor.v1.Ledger",
            )
        ]
    )
    yield LedgerUnderTest(e, running, fresh_db)
    await running.stop(0)
    await e.close()
