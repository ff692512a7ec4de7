from corridor.v1 import common_pb2 as _common_pb2
from corridor.v1 import ledger_pb2 as _ledger_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WalletKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WALLET_KIND_UNSPECIFIED: _ClassVar[WalletKind]
    WALLET_KIND_PERSONAL: _ClassVar[WalletKind]
    WALLET_KIND_CORPORATE: _ClassVar[WalletKind]
    WALLET_KIND_MERCHANT: _ClassVar[WalletKind]
WALLET_KIND_UNSPECIFIED: WalletKind
WALLET_KIND_PERSONAL: WalletKind
WALLET_KIND_CORPORATE: WalletKind
WALLET_KIND_MERCHANT: WalletKind

class RegisterOperatorRequest(_message.Message):
    __slots__ = ("operator_id", "name")
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    operator_id: str
    name: str
    def __init__(self, operator_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RegisterOperatorResponse(_message.Message):
    __slots__ = ("operator_id", "reserve_account_id", "created")
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVE_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    operator_id: str
    reserve_account_id: str
    created: bool
    def __init__(self, operator_id: _Optional[str] = ..., reserve_account_id: _Optional[str] = ..., created: _Optional[bool] = ...) -> None: ...

class IssueRequest(_message.Message):
    __slots__ = ("idempotency_key", "operator_id", "amount_minor", "currency", "business_at_us")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    operator_id: str
    amount_minor: int
    currency: str
    business_at_us: int
    def __init__(self, idempotency_key: _Optional[str] = ..., operator_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., business_at_us: _Optional[int] = ...) -> None: ...

class RedeemRequest(_message.Message):
    __slots__ = ("idempotency_key", "operator_id", "amount_minor", "currency", "business_at_us")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    operator_id: str
    amount_minor: int
    currency: str
    business_at_us: int
    def __init__(self, idempotency_key: _Optional[str] = ..., operator_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., business_at_us: _Optional[int] = ...) -> None: ...

class MovementResponse(_message.Message):
    __slots__ = ("transfer_id", "replayed", "debit_balance", "credit_balance", "seq")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    DEBIT_BALANCE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_BALANCE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    replayed: bool
    debit_balance: _ledger_pb2.Balance
    credit_balance: _ledger_pb2.Balance
    seq: int
    def __init__(self, transfer_id: _Optional[str] = ..., replayed: _Optional[bool] = ..., debit_balance: _Optional[_Union[_ledger_pb2.Balance, _Mapping]] = ..., credit_balance: _Optional[_Union[_ledger_pb2.Balance, _Mapping]] = ..., seq: _Optional[int] = ...) -> None: ...

class GetSupplyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSupplyResponse(_message.Message):
    __slots__ = ("jurisdiction", "currency", "issued_minor")
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ISSUED_MINOR_FIELD_NUMBER: _ClassVar[int]
    jurisdiction: str
    currency: str
    issued_minor: int
    def __init__(self, jurisdiction: _Optional[str] = ..., currency: _Optional[str] = ..., issued_minor: _Optional[int] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TierPolicy(_message.Message):
    __slots__ = ("tier", "how_opened", "balance_max_minor", "per_payment_max_minor", "daily_max_minor")
    TIER_FIELD_NUMBER: _ClassVar[int]
    HOW_OPENED_FIELD_NUMBER: _ClassVar[int]
    BALANCE_MAX_MINOR_FIELD_NUMBER: _ClassVar[int]
    PER_PAYMENT_MAX_MINOR_FIELD_NUMBER: _ClassVar[int]
    DAILY_MAX_MINOR_FIELD_NUMBER: _ClassVar[int]
    tier: int
    how_opened: str
    balance_max_minor: int
    per_payment_max_minor: int
    daily_max_minor: int
    def __init__(self, tier: _Optional[int] = ..., how_opened: _Optional[str] = ..., balance_max_minor: _Optional[int] = ..., per_payment_max_minor: _Optional[int] = ..., daily_max_minor: _Optional[int] = ...) -> None: ...

class NodePolicy(_message.Message):
    __slots__ = ("jurisdiction", "currency", "tiers", "utc_offset_minutes")
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    UTC_OFFSET_MINUTES_FIELD_NUMBER: _ClassVar[int]
    jurisdiction: str
    currency: str
    tiers: _containers.RepeatedCompositeFieldContainer[TierPolicy]
    utc_offset_minutes: int
    def __init__(self, jurisdiction: _Optional[str] = ..., currency: _Optional[str] = ..., tiers: _Optional[_Iterable[_Union[TierPolicy, _Mapping]]] = ..., utc_offset_minutes: _Optional[int] = ...) -> None: ...

class OpenWalletRequest(_message.Message):
    __slots__ = ("idempotency_key", "operator_id", "kind", "tier", "holder_name", "holder_document", "parent_wallet_id", "merchant_category", "region")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    HOLDER_NAME_FIELD_NUMBER: _ClassVar[int]
    HOLDER_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    PARENT_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    MERCHANT_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    operator_id: str
    kind: WalletKind
    tier: int
    holder_name: str
    holder_document: str
    parent_wallet_id: str
    merchant_category: str
    region: str
    def __init__(self, idempotency_key: _Optional[str] = ..., operator_id: _Optional[str] = ..., kind: _Optional[_Union[WalletKind, str]] = ..., tier: _Optional[int] = ..., holder_name: _Optional[str] = ..., holder_document: _Optional[str] = ..., parent_wallet_id: _Optional[str] = ..., merchant_category: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class OpenWalletsRequest(_message.Message):
    __slots__ = ("wallets",)
    WALLETS_FIELD_NUMBER: _ClassVar[int]
    wallets: _containers.RepeatedCompositeFieldContainer[OpenWalletRequest]
    def __init__(self, wallets: _Optional[_Iterable[_Union[OpenWalletRequest, _Mapping]]] = ...) -> None: ...

class OpenWalletsResponse(_message.Message):
    __slots__ = ("wallet_ids",)
    WALLET_IDS_FIELD_NUMBER: _ClassVar[int]
    wallet_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, wallet_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class WalletView(_message.Message):
    __slots__ = ("wallet_id", "operator_id", "kind", "tier", "freeze", "balance", "currency", "parent_wallet_id", "merchant_category", "region")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    FREEZE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PARENT_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    MERCHANT_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    operator_id: str
    kind: WalletKind
    tier: int
    freeze: _ledger_pb2.Freeze
    balance: _ledger_pb2.Balance
    currency: str
    parent_wallet_id: str
    merchant_category: str
    region: str
    def __init__(self, wallet_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., kind: _Optional[_Union[WalletKind, str]] = ..., tier: _Optional[int] = ..., freeze: _Optional[_Union[_ledger_pb2.Freeze, str]] = ..., balance: _Optional[_Union[_ledger_pb2.Balance, _Mapping]] = ..., currency: _Optional[str] = ..., parent_wallet_id: _Optional[str] = ..., merchant_category: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class LoadWalletRequest(_message.Message):
    __slots__ = ("idempotency_key", "wallet_id", "amount_minor", "currency", "business_at_us")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    wallet_id: str
    amount_minor: int
    currency: str
    business_at_us: int
    def __init__(self, idempotency_key: _Optional[str] = ..., wallet_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., business_at_us: _Optional[int] = ...) -> None: ...

class PayRequest(_message.Message):
    __slots__ = ("idempotency_key", "from_wallet_id", "to_wallet_id", "amount_minor", "currency", "kind", "business_at_us")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    FROM_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    TO_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    from_wallet_id: str
    to_wallet_id: str
    amount_minor: int
    currency: str
    kind: str
    business_at_us: int
    def __init__(self, idempotency_key: _Optional[str] = ..., from_wallet_id: _Optional[str] = ..., to_wallet_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., kind: _Optional[str] = ..., business_at_us: _Optional[int] = ...) -> None: ...

class PayBatchRequest(_message.Message):
    __slots__ = ("payments",)
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    payments: _containers.RepeatedCompositeFieldContainer[PayRequest]
    def __init__(self, payments: _Optional[_Iterable[_Union[PayRequest, _Mapping]]] = ...) -> None: ...

class PayResult(_message.Message):
    __slots__ = ("index", "code", "reason", "movement")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_FIELD_NUMBER: _ClassVar[int]
    index: int
    code: _ledger_pb2.TransferCode
    reason: str
    movement: MovementResponse
    def __init__(self, index: _Optional[int] = ..., code: _Optional[_Union[_ledger_pb2.TransferCode, str]] = ..., reason: _Optional[str] = ..., movement: _Optional[_Union[MovementResponse, _Mapping]] = ...) -> None: ...

class PayBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[PayResult]
    def __init__(self, results: _Optional[_Iterable[_Union[PayResult, _Mapping]]] = ...) -> None: ...

class GetWalletRequest(_message.Message):
    __slots__ = ("wallet_id",)
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    def __init__(self, wallet_id: _Optional[str] = ...) -> None: ...

class GetHistoryRequest(_message.Message):
    __slots__ = ("wallet_id", "page")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    page: _common_pb2.PageRequest
    def __init__(self, wallet_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class FreezeWalletRequest(_message.Message):
    __slots__ = ("wallet_id", "freeze", "reason")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    FREEZE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    freeze: _ledger_pb2.Freeze
    reason: str
    def __init__(self, wallet_id: _Optional[str] = ..., freeze: _Optional[_Union[_ledger_pb2.Freeze, str]] = ..., reason: _Optional[str] = ...) -> None: ...
