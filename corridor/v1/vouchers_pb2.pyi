from corridor.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VoucherRoute(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOUCHER_ROUTE_UNSPECIFIED: _ClassVar[VoucherRoute]
    VOUCHER_ROUTE_DOMESTIC: _ClassVar[VoucherRoute]
    VOUCHER_ROUTE_CROSS_BORDER: _ClassVar[VoucherRoute]

class VoucherProgramStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOUCHER_PROGRAM_STATUS_UNSPECIFIED: _ClassVar[VoucherProgramStatus]
    VOUCHER_PROGRAM_STATUS_ISSUING: _ClassVar[VoucherProgramStatus]
    VOUCHER_PROGRAM_STATUS_ACTIVE: _ClassVar[VoucherProgramStatus]
    VOUCHER_PROGRAM_STATUS_REJECTED: _ClassVar[VoucherProgramStatus]
    VOUCHER_PROGRAM_STATUS_EXPIRED: _ClassVar[VoucherProgramStatus]
    VOUCHER_PROGRAM_STATUS_CLAWED_BACK: _ClassVar[VoucherProgramStatus]

class VoucherTemplate(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOUCHER_TEMPLATE_UNSPECIFIED: _ClassVar[VoucherTemplate]
    VOUCHER_TEMPLATE_CUSTOM: _ClassVar[VoucherTemplate]
    VOUCHER_TEMPLATE_CONSUMPTION_VOUCHER: _ClassVar[VoucherTemplate]
    VOUCHER_TEMPLATE_PREPAID_ESCROW: _ClassVar[VoucherTemplate]
    VOUCHER_TEMPLATE_SUBSIDY: _ClassVar[VoucherTemplate]
    VOUCHER_TEMPLATE_TRADE_FINANCE: _ClassVar[VoucherTemplate]
VOUCHER_ROUTE_UNSPECIFIED: VoucherRoute
VOUCHER_ROUTE_DOMESTIC: VoucherRoute
VOUCHER_ROUTE_CROSS_BORDER: VoucherRoute
VOUCHER_PROGRAM_STATUS_UNSPECIFIED: VoucherProgramStatus
VOUCHER_PROGRAM_STATUS_ISSUING: VoucherProgramStatus
VOUCHER_PROGRAM_STATUS_ACTIVE: VoucherProgramStatus
VOUCHER_PROGRAM_STATUS_REJECTED: VoucherProgramStatus
VOUCHER_PROGRAM_STATUS_EXPIRED: VoucherProgramStatus
VOUCHER_PROGRAM_STATUS_CLAWED_BACK: VoucherProgramStatus
VOUCHER_TEMPLATE_UNSPECIFIED: VoucherTemplate
VOUCHER_TEMPLATE_CUSTOM: VoucherTemplate
VOUCHER_TEMPLATE_CONSUMPTION_VOUCHER: VoucherTemplate
VOUCHER_TEMPLATE_PREPAID_ESCROW: VoucherTemplate
VOUCHER_TEMPLATE_SUBSIDY: VoucherTemplate
VOUCHER_TEMPLATE_TRADE_FINANCE: VoucherTemplate

class VoucherClause(_message.Message):
    __slots__ = ("name", "cel", "builtin")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CEL_FIELD_NUMBER: _ClassVar[int]
    BUILTIN_FIELD_NUMBER: _ClassVar[int]
    name: str
    cel: str
    builtin: bool
    def __init__(self, name: _Optional[str] = ..., cel: _Optional[str] = ..., builtin: _Optional[bool] = ...) -> None: ...

class VoucherProgram(_message.Message):
    __slots__ = ("program_id", "funder_id", "amount_minor", "currency", "expires_at_us", "refund_to", "clauses", "holders", "beneficiaries", "per_payment_cap_minor", "cumulative_cap_minor", "clawback_authority", "settlement", "payout_currency", "time_zone", "purpose", "template")
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    FUNDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_US_FIELD_NUMBER: _ClassVar[int]
    REFUND_TO_FIELD_NUMBER: _ClassVar[int]
    CLAUSES_FIELD_NUMBER: _ClassVar[int]
    HOLDERS_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARIES_FIELD_NUMBER: _ClassVar[int]
    PER_PAYMENT_CAP_MINOR_FIELD_NUMBER: _ClassVar[int]
    CUMULATIVE_CAP_MINOR_FIELD_NUMBER: _ClassVar[int]
    CLAWBACK_AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    PAYOUT_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    program_id: str
    funder_id: str
    amount_minor: int
    currency: str
    expires_at_us: int
    refund_to: str
    clauses: _containers.RepeatedCompositeFieldContainer[VoucherClause]
    holders: _containers.RepeatedScalarFieldContainer[str]
    beneficiaries: _containers.RepeatedScalarFieldContainer[str]
    per_payment_cap_minor: int
    cumulative_cap_minor: int
    clawback_authority: str
    settlement: VoucherRoute
    payout_currency: str
    time_zone: str
    purpose: str
    template: VoucherTemplate
    def __init__(self, program_id: _Optional[str] = ..., funder_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., expires_at_us: _Optional[int] = ..., refund_to: _Optional[str] = ..., clauses: _Optional[_Iterable[_Union[VoucherClause, _Mapping]]] = ..., holders: _Optional[_Iterable[str]] = ..., beneficiaries: _Optional[_Iterable[str]] = ..., per_payment_cap_minor: _Optional[int] = ..., cumulative_cap_minor: _Optional[int] = ..., clawback_authority: _Optional[str] = ..., settlement: _Optional[_Union[VoucherRoute, str]] = ..., payout_currency: _Optional[str] = ..., time_zone: _Optional[str] = ..., purpose: _Optional[str] = ..., template: _Optional[_Union[VoucherTemplate, str]] = ...) -> None: ...

class VoucherDepositRequest(_message.Message):
    __slots__ = ("idempotency_key", "funder_id", "amount_minor", "currency", "business_at_us")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    FUNDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    funder_id: str
    amount_minor: int
    currency: str
    business_at_us: int
    def __init__(self, idempotency_key: _Optional[str] = ..., funder_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., business_at_us: _Optional[int] = ...) -> None: ...

class VoucherDepositResponse(_message.Message):
    __slots__ = ("transfer_id", "balance_minor", "seq", "replayed")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_MINOR_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    balance_minor: int
    seq: int
    replayed: bool
    def __init__(self, transfer_id: _Optional[str] = ..., balance_minor: _Optional[int] = ..., seq: _Optional[int] = ..., replayed: _Optional[bool] = ...) -> None: ...

class ConsumptionVoucherParams(_message.Message):
    __slots__ = ("merchant_categories", "regions", "opening_hour_start", "opening_hour_end")
    MERCHANT_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    OPENING_HOUR_START_FIELD_NUMBER: _ClassVar[int]
    OPENING_HOUR_END_FIELD_NUMBER: _ClassVar[int]
    merchant_categories: _containers.RepeatedScalarFieldContainer[str]
    regions: _containers.RepeatedScalarFieldContainer[str]
    opening_hour_start: int
    opening_hour_end: int
    def __init__(self, merchant_categories: _Optional[_Iterable[str]] = ..., regions: _Optional[_Iterable[str]] = ..., opening_hour_start: _Optional[int] = ..., opening_hour_end: _Optional[int] = ...) -> None: ...

class PrepaidEscrowParams(_message.Message):
    __slots__ = ("provider_id", "session_price_minor", "sessions", "evidence_kind")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_PRICE_MINOR_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_KIND_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    session_price_minor: int
    sessions: int
    evidence_kind: str
    def __init__(self, provider_id: _Optional[str] = ..., session_price_minor: _Optional[int] = ..., sessions: _Optional[int] = ..., evidence_kind: _Optional[str] = ...) -> None: ...

class SubsidyParams(_message.Message):
    __slots__ = ("merchant_categories", "max_payee_tier")
    MERCHANT_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    MAX_PAYEE_TIER_FIELD_NUMBER: _ClassVar[int]
    merchant_categories: _containers.RepeatedScalarFieldContainer[str]
    max_payee_tier: int
    def __init__(self, merchant_categories: _Optional[_Iterable[str]] = ..., max_payee_tier: _Optional[int] = ...) -> None: ...

class TradeFinanceParams(_message.Message):
    __slots__ = ("exporter_id", "bill_of_lading_hash", "other_documents", "exporter_region")
    class OtherDocumentsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EXPORTER_ID_FIELD_NUMBER: _ClassVar[int]
    BILL_OF_LADING_HASH_FIELD_NUMBER: _ClassVar[int]
    OTHER_DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    EXPORTER_REGION_FIELD_NUMBER: _ClassVar[int]
    exporter_id: str
    bill_of_lading_hash: str
    other_documents: _containers.ScalarMap[str, str]
    exporter_region: str
    def __init__(self, exporter_id: _Optional[str] = ..., bill_of_lading_hash: _Optional[str] = ..., other_documents: _Optional[_Mapping[str, str]] = ..., exporter_region: _Optional[str] = ...) -> None: ...

class IssueProgramRequest(_message.Message):
    __slots__ = ("idempotency_key", "program", "template", "consumption_voucher", "prepaid_escrow", "subsidy", "trade_finance", "business_at_us")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    CONSUMPTION_VOUCHER_FIELD_NUMBER: _ClassVar[int]
    PREPAID_ESCROW_FIELD_NUMBER: _ClassVar[int]
    SUBSIDY_FIELD_NUMBER: _ClassVar[int]
    TRADE_FINANCE_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    program: VoucherProgram
    template: VoucherTemplate
    consumption_voucher: ConsumptionVoucherParams
    prepaid_escrow: PrepaidEscrowParams
    subsidy: SubsidyParams
    trade_finance: TradeFinanceParams
    business_at_us: int
    def __init__(self, idempotency_key: _Optional[str] = ..., program: _Optional[_Union[VoucherProgram, _Mapping]] = ..., template: _Optional[_Union[VoucherTemplate, str]] = ..., consumption_voucher: _Optional[_Union[ConsumptionVoucherParams, _Mapping]] = ..., prepaid_escrow: _Optional[_Union[PrepaidEscrowParams, _Mapping]] = ..., subsidy: _Optional[_Union[SubsidyParams, _Mapping]] = ..., trade_finance: _Optional[_Union[TradeFinanceParams, _Mapping]] = ..., business_at_us: _Optional[int] = ...) -> None: ...

class VoucherProgramView(_message.Message):
    __slots__ = ("program", "status", "issued_minor", "redeemed_minor", "refunded_minor", "clawed_back_minor", "outstanding_minor", "redemptions", "issued_at_us", "replayed")
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ISSUED_MINOR_FIELD_NUMBER: _ClassVar[int]
    REDEEMED_MINOR_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_MINOR_FIELD_NUMBER: _ClassVar[int]
    CLAWED_BACK_MINOR_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_MINOR_FIELD_NUMBER: _ClassVar[int]
    REDEMPTIONS_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_US_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    program: VoucherProgram
    status: VoucherProgramStatus
    issued_minor: int
    redeemed_minor: int
    refunded_minor: int
    clawed_back_minor: int
    outstanding_minor: int
    redemptions: int
    issued_at_us: int
    replayed: bool
    def __init__(self, program: _Optional[_Union[VoucherProgram, _Mapping]] = ..., status: _Optional[_Union[VoucherProgramStatus, str]] = ..., issued_minor: _Optional[int] = ..., redeemed_minor: _Optional[int] = ..., refunded_minor: _Optional[int] = ..., clawed_back_minor: _Optional[int] = ..., outstanding_minor: _Optional[int] = ..., redemptions: _Optional[int] = ..., issued_at_us: _Optional[int] = ..., replayed: _Optional[bool] = ...) -> None: ...

class VoucherMerchant(_message.Message):
    __slots__ = ("id", "category", "region")
    ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    id: str
    category: str
    region: str
    def __init__(self, id: _Optional[str] = ..., category: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class VoucherParty(_message.Message):
    __slots__ = ("id", "tier")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    id: str
    tier: int
    def __init__(self, id: _Optional[str] = ..., tier: _Optional[int] = ...) -> None: ...

class RedeemVoucherRequest(_message.Message):
    __slots__ = ("idempotency_key", "program_id", "amount_minor", "currency", "merchant", "payer", "payee", "evidence", "business_at_us")
    class EvidenceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    MERCHANT_FIELD_NUMBER: _ClassVar[int]
    PAYER_FIELD_NUMBER: _ClassVar[int]
    PAYEE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    program_id: str
    amount_minor: int
    currency: str
    merchant: VoucherMerchant
    payer: VoucherParty
    payee: VoucherParty
    evidence: _containers.ScalarMap[str, str]
    business_at_us: int
    def __init__(self, idempotency_key: _Optional[str] = ..., program_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., merchant: _Optional[_Union[VoucherMerchant, _Mapping]] = ..., payer: _Optional[_Union[VoucherParty, _Mapping]] = ..., payee: _Optional[_Union[VoucherParty, _Mapping]] = ..., evidence: _Optional[_Mapping[str, str]] = ..., business_at_us: _Optional[int] = ...) -> None: ...

class RedemptionResult(_message.Message):
    __slots__ = ("program_id", "idempotency_key", "settled", "amount_minor", "failed_clause", "reason", "detail", "transfer_id", "seq", "remaining_minor", "replayed")
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    SETTLED_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    FAILED_CLAUSE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REMAINING_MINOR_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    program_id: str
    idempotency_key: str
    settled: bool
    amount_minor: int
    failed_clause: str
    reason: str
    detail: str
    transfer_id: str
    seq: int
    remaining_minor: int
    replayed: bool
    def __init__(self, program_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., settled: _Optional[bool] = ..., amount_minor: _Optional[int] = ..., failed_clause: _Optional[str] = ..., reason: _Optional[str] = ..., detail: _Optional[str] = ..., transfer_id: _Optional[str] = ..., seq: _Optional[int] = ..., remaining_minor: _Optional[int] = ..., replayed: _Optional[bool] = ...) -> None: ...

class RedeemVoucherBatchRequest(_message.Message):
    __slots__ = ("redemptions",)
    REDEMPTIONS_FIELD_NUMBER: _ClassVar[int]
    redemptions: _containers.RepeatedCompositeFieldContainer[RedeemVoucherRequest]
    def __init__(self, redemptions: _Optional[_Iterable[_Union[RedeemVoucherRequest, _Mapping]]] = ...) -> None: ...

class RedeemVoucherBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RedemptionResult]
    def __init__(self, results: _Optional[_Iterable[_Union[RedemptionResult, _Mapping]]] = ...) -> None: ...

class ExpireDueRequest(_message.Message):
    __slots__ = ("idempotency_key", "as_of_at_us")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    AS_OF_AT_US_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    as_of_at_us: int
    def __init__(self, idempotency_key: _Optional[str] = ..., as_of_at_us: _Optional[int] = ...) -> None: ...

class VoucherRefund(_message.Message):
    __slots__ = ("program_id", "transfer_id", "amount_minor", "seq")
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    program_id: str
    transfer_id: str
    amount_minor: int
    seq: int
    def __init__(self, program_id: _Optional[str] = ..., transfer_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., seq: _Optional[int] = ...) -> None: ...

class ExpireDueResponse(_message.Message):
    __slots__ = ("refunds",)
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    refunds: _containers.RepeatedCompositeFieldContainer[VoucherRefund]
    def __init__(self, refunds: _Optional[_Iterable[_Union[VoucherRefund, _Mapping]]] = ...) -> None: ...

class ClawbackRequest(_message.Message):
    __slots__ = ("idempotency_key", "program_id", "authority_id", "amount_minor", "reason", "business_at_us")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHORITY_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    program_id: str
    authority_id: str
    amount_minor: int
    reason: str
    business_at_us: int
    def __init__(self, idempotency_key: _Optional[str] = ..., program_id: _Optional[str] = ..., authority_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., reason: _Optional[str] = ..., business_at_us: _Optional[int] = ...) -> None: ...

class ClawbackResponse(_message.Message):
    __slots__ = ("transfer_id", "amount_minor", "seq", "outstanding_minor", "replayed")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_MINOR_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    amount_minor: int
    seq: int
    outstanding_minor: int
    replayed: bool
    def __init__(self, transfer_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., seq: _Optional[int] = ..., outstanding_minor: _Optional[int] = ..., replayed: _Optional[bool] = ...) -> None: ...

class GetVoucherProgramRequest(_message.Message):
    __slots__ = ("program_id",)
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    program_id: str
    def __init__(self, program_id: _Optional[str] = ...) -> None: ...

class ListEvaluationsRequest(_message.Message):
    __slots__ = ("program_id", "page")
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    program_id: str
    page: _common_pb2.PageRequest
    def __init__(self, program_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class VoucherEvaluation(_message.Message):
    __slots__ = ("seq", "program_id", "idempotency_key", "amount_minor", "business_at_us", "inputs_json", "allowed", "failed_clause", "reason", "detail", "settled", "transfer_seq", "ledger_code")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    INPUTS_JSON_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    FAILED_CLAUSE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    SETTLED_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_SEQ_FIELD_NUMBER: _ClassVar[int]
    LEDGER_CODE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    program_id: str
    idempotency_key: str
    amount_minor: int
    business_at_us: int
    inputs_json: str
    allowed: bool
    failed_clause: str
    reason: str
    detail: str
    settled: bool
    transfer_seq: int
    ledger_code: int
    def __init__(self, seq: _Optional[int] = ..., program_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., amount_minor: _Optional[int] = ..., business_at_us: _Optional[int] = ..., inputs_json: _Optional[str] = ..., allowed: _Optional[bool] = ..., failed_clause: _Optional[str] = ..., reason: _Optional[str] = ..., detail: _Optional[str] = ..., settled: _Optional[bool] = ..., transfer_seq: _Optional[int] = ..., ledger_code: _Optional[int] = ...) -> None: ...

class ListEvaluationsResponse(_message.Message):
    __slots__ = ("evaluations", "page")
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    evaluations: _containers.RepeatedCompositeFieldContainer[VoucherEvaluation]
    page: _common_pb2.PageResponse
    def __init__(self, evaluations: _Optional[_Iterable[_Union[VoucherEvaluation, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class ListVoucherSettlementsRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class VoucherPayout(_message.Message):
    __slots__ = ("seq", "transfer_id", "program_id", "kind", "party_id", "amount_minor", "currency", "route", "payout_currency", "business_at_us")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    PAYOUT_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    seq: int
    transfer_id: str
    program_id: str
    kind: str
    party_id: str
    amount_minor: int
    currency: str
    route: VoucherRoute
    payout_currency: str
    business_at_us: int
    def __init__(self, seq: _Optional[int] = ..., transfer_id: _Optional[str] = ..., program_id: _Optional[str] = ..., kind: _Optional[str] = ..., party_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., route: _Optional[_Union[VoucherRoute, str]] = ..., payout_currency: _Optional[str] = ..., business_at_us: _Optional[int] = ...) -> None: ...

class ListVoucherSettlementsResponse(_message.Message):
    __slots__ = ("settlements", "page")
    SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    settlements: _containers.RepeatedCompositeFieldContainer[VoucherPayout]
    page: _common_pb2.PageResponse
    def __init__(self, settlements: _Optional[_Iterable[_Union[VoucherPayout, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...
