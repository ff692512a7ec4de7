from corridor.v1 import ledger_pb2 as _ledger_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FxMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FX_MODE_UNSPECIFIED: _ClassVar[FxMode]
    FX_MODE_RFQ: _ClassVar[FxMode]
    FX_MODE_AMM: _ClassVar[FxMode]

class PaymentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_STATUS_UNSPECIFIED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_PREPARING: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_COMMITTING: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_ABORTING: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_SETTLED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_REJECTED: _ClassVar[PaymentStatus]
FX_MODE_UNSPECIFIED: FxMode
FX_MODE_RFQ: FxMode
FX_MODE_AMM: FxMode
PAYMENT_STATUS_UNSPECIFIED: PaymentStatus
PAYMENT_STATUS_PREPARING: PaymentStatus
PAYMENT_STATUS_COMMITTING: PaymentStatus
PAYMENT_STATUS_ABORTING: PaymentStatus
PAYMENT_STATUS_SETTLED: PaymentStatus
PAYMENT_STATUS_REJECTED: PaymentStatus

class QuoteRequest(_message.Message):
    __slots__ = ("from_currency", "to_currency", "amount_minor")
    FROM_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TO_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    from_currency: str
    to_currency: str
    amount_minor: int
    def __init__(self, from_currency: _Optional[str] = ..., to_currency: _Optional[str] = ..., amount_minor: _Optional[int] = ...) -> None: ...

class FxQuote(_message.Message):
    __slots__ = ("quote_id", "liquidity_provider", "mode", "from_currency", "to_currency", "rate", "mid_rate", "spread_bps", "slippage_bps", "amount_minor", "payee_amount_minor", "fee_minor", "expires_at_us", "liquidity_locked_minor")
    QUOTE_ID_FIELD_NUMBER: _ClassVar[int]
    LIQUIDITY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    FROM_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TO_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    MID_RATE_FIELD_NUMBER: _ClassVar[int]
    SPREAD_BPS_FIELD_NUMBER: _ClassVar[int]
    SLIPPAGE_BPS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    PAYEE_AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    FEE_MINOR_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_US_FIELD_NUMBER: _ClassVar[int]
    LIQUIDITY_LOCKED_MINOR_FIELD_NUMBER: _ClassVar[int]
    quote_id: str
    liquidity_provider: str
    mode: FxMode
    from_currency: str
    to_currency: str
    rate: str
    mid_rate: str
    spread_bps: float
    slippage_bps: float
    amount_minor: int
    payee_amount_minor: int
    fee_minor: int
    expires_at_us: int
    liquidity_locked_minor: int
    def __init__(self, quote_id: _Optional[str] = ..., liquidity_provider: _Optional[str] = ..., mode: _Optional[_Union[FxMode, str]] = ..., from_currency: _Optional[str] = ..., to_currency: _Optional[str] = ..., rate: _Optional[str] = ..., mid_rate: _Optional[str] = ..., spread_bps: _Optional[float] = ..., slippage_bps: _Optional[float] = ..., amount_minor: _Optional[int] = ..., payee_amount_minor: _Optional[int] = ..., fee_minor: _Optional[int] = ..., expires_at_us: _Optional[int] = ..., liquidity_locked_minor: _Optional[int] = ...) -> None: ...

class CrossBorderPayRequest(_message.Message):
    __slots__ = ("idempotency_key", "payer_jurisdiction", "payer_wallet_id", "payee_jurisdiction", "payee_wallet_id", "amount_minor", "currency", "quote_id", "max_slippage_bps", "purpose", "business_at_us")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PAYER_JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    PAYER_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    PAYEE_JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    PAYEE_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_SLIPPAGE_BPS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    payer_jurisdiction: str
    payer_wallet_id: str
    payee_jurisdiction: str
    payee_wallet_id: str
    amount_minor: int
    currency: str
    quote_id: str
    max_slippage_bps: int
    purpose: str
    business_at_us: int
    def __init__(self, idempotency_key: _Optional[str] = ..., payer_jurisdiction: _Optional[str] = ..., payer_wallet_id: _Optional[str] = ..., payee_jurisdiction: _Optional[str] = ..., payee_wallet_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., quote_id: _Optional[str] = ..., max_slippage_bps: _Optional[int] = ..., purpose: _Optional[str] = ..., business_at_us: _Optional[int] = ...) -> None: ...

class CrossBorderPayBatchRequest(_message.Message):
    __slots__ = ("payments",)
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    payments: _containers.RepeatedCompositeFieldContainer[CrossBorderPayRequest]
    def __init__(self, payments: _Optional[_Iterable[_Union[CrossBorderPayRequest, _Mapping]]] = ...) -> None: ...

class CrossBorderPayBatchResponse(_message.Message):
    __slots__ = ("receipts",)
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    receipts: _containers.RepeatedCompositeFieldContainer[PaymentReceipt]
    def __init__(self, receipts: _Optional[_Iterable[_Union[PaymentReceipt, _Mapping]]] = ...) -> None: ...

class Leg(_message.Message):
    __slots__ = ("ledger", "transfer_id", "debit_account_id", "credit_account_id", "amount_minor", "currency", "code")
    LEDGER_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ledger: str
    transfer_id: str
    debit_account_id: str
    credit_account_id: str
    amount_minor: int
    currency: str
    code: _ledger_pb2.TransferCode
    def __init__(self, ledger: _Optional[str] = ..., transfer_id: _Optional[str] = ..., debit_account_id: _Optional[str] = ..., credit_account_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., code: _Optional[_Union[_ledger_pb2.TransferCode, str]] = ...) -> None: ...

class PaymentReceipt(_message.Message):
    __slots__ = ("payment_id", "status", "reason", "payer_jurisdiction", "payee_jurisdiction", "amount_minor", "currency", "payee_amount_minor", "payee_currency", "rate", "mid_rate", "fee_minor", "total_cost_minor", "total_cost_bps", "legs", "created_at_us", "decided_at_us", "settled_at_us", "liquidity_provider", "fx_mode", "replayed", "field")
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PAYER_JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    PAYEE_JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PAYEE_AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    PAYEE_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    MID_RATE_FIELD_NUMBER: _ClassVar[int]
    FEE_MINOR_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_MINOR_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_BPS_FIELD_NUMBER: _ClassVar[int]
    LEGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_US_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_US_FIELD_NUMBER: _ClassVar[int]
    SETTLED_AT_US_FIELD_NUMBER: _ClassVar[int]
    LIQUIDITY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    FX_MODE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    status: PaymentStatus
    reason: str
    payer_jurisdiction: str
    payee_jurisdiction: str
    amount_minor: int
    currency: str
    payee_amount_minor: int
    payee_currency: str
    rate: str
    mid_rate: str
    fee_minor: int
    total_cost_minor: int
    total_cost_bps: float
    legs: _containers.RepeatedCompositeFieldContainer[Leg]
    created_at_us: int
    decided_at_us: int
    settled_at_us: int
    liquidity_provider: str
    fx_mode: FxMode
    replayed: bool
    field: str
    def __init__(self, payment_id: _Optional[str] = ..., status: _Optional[_Union[PaymentStatus, str]] = ..., reason: _Optional[str] = ..., payer_jurisdiction: _Optional[str] = ..., payee_jurisdiction: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., payee_amount_minor: _Optional[int] = ..., payee_currency: _Optional[str] = ..., rate: _Optional[str] = ..., mid_rate: _Optional[str] = ..., fee_minor: _Optional[int] = ..., total_cost_minor: _Optional[int] = ..., total_cost_bps: _Optional[float] = ..., legs: _Optional[_Iterable[_Union[Leg, _Mapping]]] = ..., created_at_us: _Optional[int] = ..., decided_at_us: _Optional[int] = ..., settled_at_us: _Optional[int] = ..., liquidity_provider: _Optional[str] = ..., fx_mode: _Optional[_Union[FxMode, str]] = ..., replayed: _Optional[bool] = ..., field: _Optional[str] = ...) -> None: ...

class GetPaymentRequest(_message.Message):
    __slots__ = ("payment_id",)
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    def __init__(self, payment_id: _Optional[str] = ...) -> None: ...

class ResolvePaymentsRequest(_message.Message):
    __slots__ = ("payment_ids",)
    PAYMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    payment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, payment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("payment_id", "commit")
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    commit: bool
    def __init__(self, payment_id: _Optional[str] = ..., commit: _Optional[bool] = ...) -> None: ...

class ResolvePaymentsResponse(_message.Message):
    __slots__ = ("decisions",)
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    def __init__(self, decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ...) -> None: ...

class FundLiquidityRequest(_message.Message):
    __slots__ = ("idempotency_key", "liquidity_provider", "jurisdiction", "amount_minor", "currency")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LIQUIDITY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    liquidity_provider: str
    jurisdiction: str
    amount_minor: int
    currency: str
    def __init__(self, idempotency_key: _Optional[str] = ..., liquidity_provider: _Optional[str] = ..., jurisdiction: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class GetFxMarketRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LiquidityPosition(_message.Message):
    __slots__ = ("liquidity_provider", "currency", "available_minor")
    LIQUIDITY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_MINOR_FIELD_NUMBER: _ClassVar[int]
    liquidity_provider: str
    currency: str
    available_minor: int
    def __init__(self, liquidity_provider: _Optional[str] = ..., currency: _Optional[str] = ..., available_minor: _Optional[int] = ...) -> None: ...

class PoolView(_message.Message):
    __slots__ = ("pair", "reserve_base_minor", "reserve_quote_minor", "fee_bps")
    PAIR_FIELD_NUMBER: _ClassVar[int]
    RESERVE_BASE_MINOR_FIELD_NUMBER: _ClassVar[int]
    RESERVE_QUOTE_MINOR_FIELD_NUMBER: _ClassVar[int]
    FEE_BPS_FIELD_NUMBER: _ClassVar[int]
    pair: str
    reserve_base_minor: int
    reserve_quote_minor: int
    fee_bps: float
    def __init__(self, pair: _Optional[str] = ..., reserve_base_minor: _Optional[int] = ..., reserve_quote_minor: _Optional[int] = ..., fee_bps: _Optional[float] = ...) -> None: ...

class FxMarket(_message.Message):
    __slots__ = ("reference_usd_rates", "positions", "pools")
    class ReferenceUsdRatesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REFERENCE_USD_RATES_FIELD_NUMBER: _ClassVar[int]
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    reference_usd_rates: _containers.ScalarMap[str, str]
    positions: _containers.RepeatedCompositeFieldContainer[LiquidityPosition]
    pools: _containers.RepeatedCompositeFieldContainer[PoolView]
    def __init__(self, reference_usd_rates: _Optional[_Mapping[str, str]] = ..., positions: _Optional[_Iterable[_Union[LiquidityPosition, _Mapping]]] = ..., pools: _Optional[_Iterable[_Union[PoolView, _Mapping]]] = ...) -> None: ...

class EndOfDaySweepRequest(_message.Message):
    __slots__ = ("idempotency_key", "jurisdiction")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    jurisdiction: str
    def __init__(self, idempotency_key: _Optional[str] = ..., jurisdiction: _Optional[str] = ...) -> None: ...

class EndOfDaySweepResponse(_message.Message):
    __slots__ = ("sweeps",)
    SWEEPS_FIELD_NUMBER: _ClassVar[int]
    sweeps: _containers.RepeatedCompositeFieldContainer[PaymentReceipt]
    def __init__(self, sweeps: _Optional[_Iterable[_Union[PaymentReceipt, _Mapping]]] = ...) -> None: ...
