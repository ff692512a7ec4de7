from corridor.v1 import ledger_pb2 as _ledger_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SupervisedPosting(_message.Message):
    __slots__ = ("ledger", "seq", "transfer_id", "payment_id", "debit_account", "credit_account", "amount_minor", "currency", "kind", "business_at_us", "debit_jurisdiction", "credit_jurisdiction", "debit_tier", "credit_tier", "merchant_category", "phase")
    LEDGER_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    DEBIT_JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    CREDIT_JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    DEBIT_TIER_FIELD_NUMBER: _ClassVar[int]
    CREDIT_TIER_FIELD_NUMBER: _ClassVar[int]
    MERCHANT_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    ledger: str
    seq: int
    transfer_id: str
    payment_id: str
    debit_account: str
    credit_account: str
    amount_minor: int
    currency: str
    kind: str
    business_at_us: int
    debit_jurisdiction: str
    credit_jurisdiction: str
    debit_tier: int
    credit_tier: int
    merchant_category: str
    phase: str
    def __init__(self, ledger: _Optional[str] = ..., seq: _Optional[int] = ..., transfer_id: _Optional[str] = ..., payment_id: _Optional[str] = ..., debit_account: _Optional[str] = ..., credit_account: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., kind: _Optional[str] = ..., business_at_us: _Optional[int] = ..., debit_jurisdiction: _Optional[str] = ..., credit_jurisdiction: _Optional[str] = ..., debit_tier: _Optional[int] = ..., credit_tier: _Optional[int] = ..., merchant_category: _Optional[str] = ..., phase: _Optional[str] = ...) -> None: ...

class SupervisionAlert(_message.Message):
    __slots__ = ("alert_id", "typology", "score", "subjects", "evidence", "raised_at_us", "rail", "withheld_subjects")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPOLOGY_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    RAISED_AT_US_FIELD_NUMBER: _ClassVar[int]
    RAIL_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    typology: str
    score: float
    subjects: _containers.RepeatedScalarFieldContainer[str]
    evidence: _containers.RepeatedScalarFieldContainer[str]
    raised_at_us: int
    rail: str
    withheld_subjects: int
    def __init__(self, alert_id: _Optional[str] = ..., typology: _Optional[str] = ..., score: _Optional[float] = ..., subjects: _Optional[_Iterable[str]] = ..., evidence: _Optional[_Iterable[str]] = ..., raised_at_us: _Optional[int] = ..., rail: _Optional[str] = ..., withheld_subjects: _Optional[int] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("typology", "subject", "since_us", "limit")
    TYPOLOGY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SINCE_US_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    typology: str
    subject: str
    since_us: int
    limit: int
    def __init__(self, typology: _Optional[str] = ..., subject: _Optional[str] = ..., since_us: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[SupervisionAlert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[SupervisionAlert, _Mapping]]] = ...) -> None: ...

class GetPaymentPathRequest(_message.Message):
    __slots__ = ("payment_id",)
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    def __init__(self, payment_id: _Optional[str] = ...) -> None: ...

class PaymentPath(_message.Message):
    __slots__ = ("payment_id", "legs", "withheld_ledgers")
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LEGS_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_LEDGERS_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    legs: _containers.RepeatedCompositeFieldContainer[SupervisedPosting]
    withheld_ledgers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, payment_id: _Optional[str] = ..., legs: _Optional[_Iterable[_Union[SupervisedPosting, _Mapping]]] = ..., withheld_ledgers: _Optional[_Iterable[str]] = ...) -> None: ...

class GetCounterpartiesRequest(_message.Message):
    __slots__ = ("wallet_id", "hops", "since_us", "until_us")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    HOPS_FIELD_NUMBER: _ClassVar[int]
    SINCE_US_FIELD_NUMBER: _ClassVar[int]
    UNTIL_US_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    hops: int
    since_us: int
    until_us: int
    def __init__(self, wallet_id: _Optional[str] = ..., hops: _Optional[int] = ..., since_us: _Optional[int] = ..., until_us: _Optional[int] = ...) -> None: ...

class CounterpartyView(_message.Message):
    __slots__ = ("wallet_id", "hops")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    HOPS_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    hops: int
    def __init__(self, wallet_id: _Optional[str] = ..., hops: _Optional[int] = ...) -> None: ...

class ForeignCounterparties(_message.Message):
    __slots__ = ("jurisdiction", "wallets")
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    WALLETS_FIELD_NUMBER: _ClassVar[int]
    jurisdiction: str
    wallets: int
    def __init__(self, jurisdiction: _Optional[str] = ..., wallets: _Optional[int] = ...) -> None: ...

class GetCounterpartiesResponse(_message.Message):
    __slots__ = ("counterparties", "foreign")
    COUNTERPARTIES_FIELD_NUMBER: _ClassVar[int]
    FOREIGN_FIELD_NUMBER: _ClassVar[int]
    counterparties: _containers.RepeatedCompositeFieldContainer[CounterpartyView]
    foreign: _containers.RepeatedCompositeFieldContainer[ForeignCounterparties]
    def __init__(self, counterparties: _Optional[_Iterable[_Union[CounterpartyView, _Mapping]]] = ..., foreign: _Optional[_Iterable[_Union[ForeignCounterparties, _Mapping]]] = ...) -> None: ...

class GetJurisdictionFlowsRequest(_message.Message):
    __slots__ = ("since_us", "until_us")
    SINCE_US_FIELD_NUMBER: _ClassVar[int]
    UNTIL_US_FIELD_NUMBER: _ClassVar[int]
    since_us: int
    until_us: int
    def __init__(self, since_us: _Optional[int] = ..., until_us: _Optional[int] = ...) -> None: ...

class JurisdictionFlowView(_message.Message):
    __slots__ = ("source", "destination", "currency", "payments", "amount_minor")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    source: str
    destination: str
    currency: str
    payments: int
    amount_minor: int
    def __init__(self, source: _Optional[str] = ..., destination: _Optional[str] = ..., currency: _Optional[str] = ..., payments: _Optional[int] = ..., amount_minor: _Optional[int] = ...) -> None: ...

class GetJurisdictionFlowsResponse(_message.Message):
    __slots__ = ("flows",)
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    flows: _containers.RepeatedCompositeFieldContainer[JurisdictionFlowView]
    def __init__(self, flows: _Optional[_Iterable[_Union[JurisdictionFlowView, _Mapping]]] = ...) -> None: ...

class OpenCaseRequest(_message.Message):
    __slots__ = ("wallet_ids", "reason", "alert_id")
    WALLET_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    alert_id: str
    def __init__(self, wallet_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., alert_id: _Optional[str] = ...) -> None: ...

class CloseCaseRequest(_message.Message):
    __slots__ = ("case_id", "reason")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    reason: str
    def __init__(self, case_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SupervisionCase(_message.Message):
    __slots__ = ("case_id", "jurisdiction", "opened_by", "wallet_ids", "reason", "alert_id", "open", "opened_at_us", "closed_at_us")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    OPENED_BY_FIELD_NUMBER: _ClassVar[int]
    WALLET_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_US_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_US_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    jurisdiction: str
    opened_by: str
    wallet_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    alert_id: str
    open: bool
    opened_at_us: int
    closed_at_us: int
    def __init__(self, case_id: _Optional[str] = ..., jurisdiction: _Optional[str] = ..., opened_by: _Optional[str] = ..., wallet_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., alert_id: _Optional[str] = ..., open: _Optional[bool] = ..., opened_at_us: _Optional[int] = ..., closed_at_us: _Optional[int] = ...) -> None: ...

class RevealIdentityRequest(_message.Message):
    __slots__ = ("wallet_id", "reason", "case_id", "payment_id")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    reason: str
    case_id: str
    payment_id: str
    def __init__(self, wallet_id: _Optional[str] = ..., reason: _Optional[str] = ..., case_id: _Optional[str] = ..., payment_id: _Optional[str] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("n", "at_us", "supervisor", "jurisdiction", "wallet", "reason", "case_id", "action", "detail", "prev_hash", "hash")
    N_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    SUPERVISOR_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    WALLET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    n: int
    at_us: int
    supervisor: str
    jurisdiction: str
    wallet: str
    reason: str
    case_id: str
    action: str
    detail: str
    prev_hash: str
    hash: str
    def __init__(self, n: _Optional[int] = ..., at_us: _Optional[int] = ..., supervisor: _Optional[str] = ..., jurisdiction: _Optional[str] = ..., wallet: _Optional[str] = ..., reason: _Optional[str] = ..., case_id: _Optional[str] = ..., action: _Optional[str] = ..., detail: _Optional[str] = ..., prev_hash: _Optional[str] = ..., hash: _Optional[str] = ...) -> None: ...

class RevealIdentityResponse(_message.Message):
    __slots__ = ("wallet_id", "holder_name", "holder_document", "operator_id", "tier", "basis", "audit")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_NAME_FIELD_NUMBER: _ClassVar[int]
    HOLDER_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    holder_name: str
    holder_document: str
    operator_id: str
    tier: int
    basis: str
    audit: AuditEntry
    def __init__(self, wallet_id: _Optional[str] = ..., holder_name: _Optional[str] = ..., holder_document: _Optional[str] = ..., operator_id: _Optional[str] = ..., tier: _Optional[int] = ..., basis: _Optional[str] = ..., audit: _Optional[_Union[AuditEntry, _Mapping]] = ...) -> None: ...

class FreezeOrderRequest(_message.Message):
    __slots__ = ("wallet_id", "freeze", "reason", "case_id")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    FREEZE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    freeze: _ledger_pb2.Freeze
    reason: str
    case_id: str
    def __init__(self, wallet_id: _Optional[str] = ..., freeze: _Optional[_Union[_ledger_pb2.Freeze, str]] = ..., reason: _Optional[str] = ..., case_id: _Optional[str] = ...) -> None: ...

class FreezeOrderResponse(_message.Message):
    __slots__ = ("wallet_id", "freeze", "confirmed_in_ms", "audit")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    FREEZE_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_IN_MS_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    freeze: _ledger_pb2.Freeze
    confirmed_in_ms: float
    audit: AuditEntry
    def __init__(self, wallet_id: _Optional[str] = ..., freeze: _Optional[_Union[_ledger_pb2.Freeze, str]] = ..., confirmed_in_ms: _Optional[float] = ..., audit: _Optional[_Union[AuditEntry, _Mapping]] = ...) -> None: ...

class GetFeedStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FeedCursor(_message.Message):
    __slots__ = ("ledger", "target", "connected", "stored_seq", "detected_seq", "caught_up", "last_business_at_us", "lag_s", "reconnects", "last_error")
    LEDGER_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    STORED_SEQ_FIELD_NUMBER: _ClassVar[int]
    DETECTED_SEQ_FIELD_NUMBER: _ClassVar[int]
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    LAST_BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    LAG_S_FIELD_NUMBER: _ClassVar[int]
    RECONNECTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    ledger: str
    target: str
    connected: bool
    stored_seq: int
    detected_seq: int
    caught_up: bool
    last_business_at_us: int
    lag_s: float
    reconnects: int
    last_error: str
    def __init__(self, ledger: _Optional[str] = ..., target: _Optional[str] = ..., connected: _Optional[bool] = ..., stored_seq: _Optional[int] = ..., detected_seq: _Optional[int] = ..., caught_up: _Optional[bool] = ..., last_business_at_us: _Optional[int] = ..., lag_s: _Optional[float] = ..., reconnects: _Optional[int] = ..., last_error: _Optional[str] = ...) -> None: ...

class FeedStatus(_message.Message):
    __slots__ = ("feeds", "postings_ingested", "postings_detected", "alerts_raised", "buffered")
    FEEDS_FIELD_NUMBER: _ClassVar[int]
    POSTINGS_INGESTED_FIELD_NUMBER: _ClassVar[int]
    POSTINGS_DETECTED_FIELD_NUMBER: _ClassVar[int]
    ALERTS_RAISED_FIELD_NUMBER: _ClassVar[int]
    BUFFERED_FIELD_NUMBER: _ClassVar[int]
    feeds: _containers.RepeatedCompositeFieldContainer[FeedCursor]
    postings_ingested: int
    postings_detected: int
    alerts_raised: int
    buffered: int
    def __init__(self, feeds: _Optional[_Iterable[_Union[FeedCursor, _Mapping]]] = ..., postings_ingested: _Optional[int] = ..., postings_detected: _Optional[int] = ..., alerts_raised: _Optional[int] = ..., buffered: _Optional[int] = ...) -> None: ...

class GetAuditLogRequest(_message.Message):
    __slots__ = ("wallet_id",)
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    def __init__(self, wallet_id: _Optional[str] = ...) -> None: ...

class GetAuditLogResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ...) -> None: ...

class VerifyAuditLogRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VerifyAuditLogResponse(_message.Message):
    __slots__ = ("intact", "entries_verified", "broken_at", "head_hash")
    INTACT_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    BROKEN_AT_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    intact: bool
    entries_verified: int
    broken_at: int
    head_hash: str
    def __init__(self, intact: _Optional[bool] = ..., entries_verified: _Optional[int] = ..., broken_at: _Optional[int] = ..., head_hash: _Optional[str] = ...) -> None: ...
