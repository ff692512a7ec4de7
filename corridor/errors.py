"""Errors, mapped in one place.

Handlers raise `CorridorError` (or a subclass); the server interceptor turns it into a standard
gRPC status with google.rpc details: ErrorInfo (stable `reason`, domain "corridor"), BadRequest
naming the field, PreconditionFailure for business rules, RetryInfo for backpressure. Anything
unexpected becomes INTERNAL with a short message (the traceback goes to the log, never to the
caller). Clients read details back with `error_details()`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

DOMAIN = "corridor"


@dataclass
class CorridorError(Exception):
    code: grpc.StatusCode
    reason: str  # stable, machine-readable, UPPER_SNAKE
    message: str
    field: str = ""  # the offending request field, dotted (e.g. "transfers[3].amount_minor")
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    retry_after_s: float = 0.0

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.code.name} {self.reason}{where}: {self.message}"

    def to_status(self) -> grpc.Status:
        details = []
        info = error_details_pb2.ErrorInfo(
            reason=self.reason, domain=DOMAIN, metadata=self.metadata
        )
        details.append(info)
        if self.field and self.code in (
            grpc.StatusCode.INVALID_ARGUMENT,
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.ALREADY_EXISTS,
        ):
            br = error_details_pb2.BadRequest()
            br.field_violations.add(field=self.field, description=self.message)
            details.append(br)
        if self.code == grpc.StatusCode.FAILED_PRECONDITION:
            pf = error_details_pb2.PreconditionFailure()
            pf.violations.add(type=self.reason, subject=self.field, description=self.message)
            details.append(pf)
        if self.retry_after_s:
            ri = error_details_pb2.RetryInfo(
                retry_delay=duration_pb2.Duration(
                    seconds=int(self.retry_after_s), nanos=int(self.retry_after_s % 1 * 1e9)
                )
            )
            details.append(ri)
        packed = []
        for d in details:
            a = any_pb2.Any()
            a.Pack(d)
            packed.append(a)
        status = status_pb2.Status(
            code=getattr(code_pb2, self.code.name), message=str(self), details=packed
        )
        return rpc_status.to_status(status)


def invalid(field_name: str, message: str, reason: str = "INVALID_FIELD") -> CorridorError:
    return CorridorError(grpc.StatusCode.INVALID_ARGUMENT, reason, message, field_name)


def not_found(field_name: str, message: str, reason: str = "NOT_FOUND") -> CorridorError:
    return CorridorError(grpc.StatusCode.NOT_FOUND, reason, message, field_name)


def precondition(reason: str, message: str, field_name: str = "", **meta: str) -> CorridorError:
    return CorridorError(grpc.StatusCode.FAILED_PRECONDITION, reason, message, field_name, meta)


def permission_denied(reason: str, message: str) -> CorridorError:
    return CorridorError(grpc.StatusCode.PERMISSION_DENIED, reason, message)


def exhausted(reason: str, message: str, retry_after_s: float) -> CorridorError:
    return CorridorError(
        grpc.StatusCode.RESOURCE_EXHAUSTED, reason, message, retry_after_s=retry_after_s
    )


@dataclass
class ErrorDetails:
    code: grpc.StatusCode
    message: str
    reason: str = ""
    field: str = ""
    retry_after_s: float = 0.0
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)


def error_details(err: grpc.RpcError) -> ErrorDetails:
    """Decode a gRPC error's rich details on the client side."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    out = ErrorDetails(code=code, message=err.details() if hasattr(err, "details") else str(err))
    try:
        status = rpc_status.from_call(err)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a peer without rich details
        status = None
    if status is None:
        return out
    for d in status.details:
        if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            d.Unpack(info)
            out.reason = info.reason
            out.metadata = dict(info.metadata)
        elif d.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            d.Unpack(br)
            if br.field_violations:
                out.field = br.field_violations[0].field
        elif d.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            pf = error_details_pb2.PreconditionFailure()
            d.Unpack(pf)
            if pf.violations and not out.field:
                out.field = pf.violations[0].subject
        elif d.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            ri = error_details_pb2.RetryInfo()
            d.Unpack(ri)
            out.retry_after_s = ri.retry_delay.seconds + ri.retry_delay.nanos / 1e9
    return out
