"""A Locust user that speaks gRPC (sync grpcio stubs, made cooperative with gevent).

Importing this module calls `grpc.experimental.gevent.init_gevent()`: without it every blocking
grpcio call would stall all the users of a Locust process (a few hundred calls/s instead of
thousands).

Every call is reported to Locust's statistics as one request named after the RPC and the load
stage (`Bridge/CrossBorderPayBatch [surge]`), so the web UI and the CSVs show the surge apart from
the steady state. The "content size" of a request is the number of payments it settled, so
`Request Count x Average Content Size` in the CSV is the payments moved.

Outcomes, each its own row type:
- `grpc`    answered: a success, or a failure (any unexpected status, including a deadline);
- `shed`    RESOURCE_EXHAUSTED: overload shed by the service. Not a failure: the user honours
            the RetryInfo delay (sleeps) before its next call, as a good client must;
- `refused` FAILED_PRECONDITION with a reason the user expects in a live market (e.g. the
            stablecoin issuer's MINT_CLOSED): a business answer, not a failure.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import gevent
import grpc
import grpc.experimental.gevent as grpc_gevent
from locust import User  # importing locust monkey-patches the standard library for gevent
from opentelemetry import baggage, context, propagate

from corridor.config import JURISDICTIONS
from corridor.errors import error_details
from corridor.scenario.services import OPERATOR
from corridor.security.credentials import metadata_for
from corridor.security.transport import sync_channel
from corridor.server import CHANNEL_OPTIONS
from loadtests.stages import NEUTRAL_RAIL, pace

# After gevent's monkey-patching, before any grpc object exists.
grpc_gevent.init_gevent()
# grpcio's gevent mode waits for each call's completion on a thread of gevent's hub threadpool,
# which holds 10 threads by default: a Locust process would then have at most ~10 calls in
# flight, and every other user's call (even a 2 ms one) queues behind slow batch calls. Measured
# here: a stablecoin GetMarket answered in 2 ms to an outside probe took 17 s inside Locust in the
# surge. One thread per concurrently waiting call fixes it.
GRPC_THREADS = int(os.environ.get("CORRIDOR_LOCUST_GRPC_THREADS", "512"))
gevent.get_hub().threadpool.maxsize = GRPC_THREADS

DEADLINE_S = 30.0
RUN_ID = uuid.uuid4().hex[:8]  # idempotency keys are unique per Locust process and run
_CHANNELS: dict[str, grpc.Channel] = {}
_SERIAL = itertools.count()


def channel_for(target: str) -> grpc.Channel:
    """One channel per target per process, shared by every user (HTTP/2 multiplexes them)."""
    ch = _CHANNELS.get(target)
    if ch is None:
        ch = _CHANNELS[target] = sync_channel(target, options=CHANNEL_OPTIONS)
    return ch


def close_channels() -> None:
    for ch in _CHANNELS.values():
        ch.close()
    _CHANNELS.clear()


class GrpcFailure(Exception):
    """How a failed call appears in Locust's failure table: code, reason and message."""

    def __init__(self, code: str, reason: str, message: str) -> None:
        super().__init__(f"{code} {reason}: {message}" if reason else f"{code}: {message}")


class GrpcUser(User):
    """Base of every Corridor user: `call()` times a gRPC call and reports it."""

    abstract = True
    rail = NEUTRAL_RAIL
    base_wait_s = 1.0

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.metadata: tuple[tuple[str, str], ...] = ()
        self.baggage: tuple[tuple[str, str], ...] = ()

    def on_start(self) -> None:
        # Mark every call of this user synthetic through OTel baggage (the OTel demo's habit),
        # so traces and logs can tell load-test traffic from the rest.
        context.attach(baggage.set_baggage("synthetic_request", "true"))
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        self.baggage = tuple(carrier.items())
        self.metadata = (*self.caller(), *self.baggage)

    def caller(self) -> tuple[tuple[str, str], ...]:
        """Who this user is to the services (a signed credential when CORRIDOR_SECURE auth is
        on): by default operator bank-a, which holds the load test's wallets everywhere."""
        return metadata_for("operator", OPERATOR, ",".join(JURISDICTIONS))

    # ------------------------------------------------------------------ the stage
    @property
    def stage(self) -> str:
        opts = self.environment.parsed_options
        return getattr(opts, "corridor_stage", None) or "steady"

    def wait_time(self) -> float:  # type: ignore[override]
        return self.base_wait_s * pace(self.rail, self.stage)

    def key(self) -> str:
        """A fresh idempotency key (<= 100 chars)."""
        return f"lt-{RUN_ID}-{next(_SERIAL)}"

    # ------------------------------------------------------------------ calls
    def call(
        self,
        name: str,
        method: Callable[..., Any],
        request: Any,
        settled: Callable[[Any], int] | None = lambda _: 1,
        refusals: Iterable[str] = (),
        metadata: tuple[tuple[str, str], ...] | None = None,
    ) -> Any:
        """Call `method(request)`; report it as `name [stage]`. Returns the response, or None
        when the call did not succeed (already reported). `settled` counts the payments a
        response settled (0 = a failure); None marks a query, which moves no payment."""
        label = f"{name} [{self.stage}]"
        events = self.environment.events.request
        t0 = time.perf_counter()
        try:
            response = method(request, timeout=DEADLINE_S, metadata=metadata or self.metadata)
        except grpc.RpcError as exc:
            elapsed_ms = (time.perf_counter() - t0) * 1000
            details = error_details(exc)
            if details.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
                events.fire(request_type="shed", name=label, response_time=elapsed_ms,
                            response_length=0, exception=None, context={})  # fmt: skip
                gevent.sleep(details.retry_after_s or 0.1)  # honour RetryInfo before trying again
                return None
            if details.code == grpc.StatusCode.FAILED_PRECONDITION and details.reason in refusals:
                events.fire(request_type="refused", name=f"{label} {details.reason}",
                            response_time=elapsed_ms, response_length=0, exception=None, context={})  # fmt: skip
                return None
            failure = GrpcFailure(details.code.name, details.reason, details.message[:200])
            events.fire(request_type="grpc", name=label, response_time=elapsed_ms,
                        response_length=0, exception=failure, context={})  # fmt: skip
            return None
        elapsed_ms = (time.perf_counter() - t0) * 1000
        n = settled(response) if settled is not None else 0
        refused = settled is not None and n == 0
        events.fire(request_type="grpc", name=label, response_time=elapsed_ms, response_length=n,
                    exception=GrpcFailure("REFUSED", "", "nothing settled") if refused else None,
                    context={})  # fmt: skip
        return response
