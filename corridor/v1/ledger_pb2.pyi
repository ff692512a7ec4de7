from corridor.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccountFlag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_FLAG_UNSPECIFIED: _ClassVar[AccountFlag]
    ACCOUNT_FLAG_DEBITS_MUST_NOT_EXCEED_CREDITS: _ClassVar[AccountFlag]
    ACCOUNT_FLAG_CREDITS_MUST_NOT_EXCEED_DEBITS: _ClassVar[AccountFlag]

class Freeze(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FREEZE_NONE: _ClassVar[Freeze]
    FREEZE_RECEIVE_ONLY: _ClassVar[Freeze]
    FREEZE_FULL: _ClassVar[Freeze]

class TransferState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_STATE_UNSPECIFIED: _ClassVar[TransferState]
    TRANSFER_STATE_POSTED: _ClassVar[TransferState]
    TRANSFER_STATE_PENDING: _ClassVar[TransferState]
    TRANSFER_STATE_POSTED_FROM_PENDING: _ClassVar[TransferState]
    TRANSFER_STATE_VOIDED: _ClassVar[TransferState]
    TRANSFER_STATE_EXPIRED: _ClassVar[TransferState]

class TransferCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_CODE_UNSPECIFIED: _ClassVar[TransferCode]
    OK: _ClassVar[TransferCode]
    EXISTS: _ClassVar[TransferCode]
    LINKED_EVENT_FAILED: _ClassVar[TransferCode]
    LINKED_EVENT_CHAIN_OPEN: _ClassVar[TransferCode]
    ID_MUST_NOT_BE_EMPTY: _ClassVar[TransferCode]
    AMOUNT_MUST_BE_POSITIVE: _ClassVar[TransferCode]
    CURRENCY_UNKNOWN: _ClassVar[TransferCode]
    ACCOUNTS_MUST_BE_DIFFERENT: _ClassVar[TransferCode]
    DEBIT_ACCOUNT_NOT_FOUND: _ClassVar[TransferCode]
    CREDIT_ACCOUNT_NOT_FOUND: _ClassVar[TransferCode]
    CURRENCY_MISMATCH: _ClassVar[TransferCode]
    PENDING_TRANSFER_NOT_FOUND: _ClassVar[TransferCode]
    PENDING_TRANSFER_NOT_PENDING: _ClassVar[TransferCode]
    PENDING_TRANSFER_ALREADY_POSTED: _ClassVar[TransferCode]
    PENDING_TRANSFER_ALREADY_VOIDED: _ClassVar[TransferCode]
    PENDING_TRANSFER_EXPIRED: _ClassVar[TransferCode]
    EXCEEDS_PENDING_AMOUNT: _ClassVar[TransferCode]
    EXISTS_WITH_DIFFERENT_FIELDS: _ClassVar[TransferCode]
    FLAGS_ARE_MUTUALLY_EXCLUSIVE: _ClassVar[TransferCode]
    DEBIT_ACCOUNT_FROZEN: _ClassVar[TransferCode]
    CREDIT_ACCOUNT_FROZEN: _ClassVar[TransferCode]
    EXCEEDS_CREDITS: _ClassVar[TransferCode]
    EXCEEDS_DEBITS: _ClassVar[TransferCode]
    EXCEEDS_DEBIT_MAX_PER_TRANSFER: _ClassVar[TransferCode]
    EXCEEDS_DAILY_DEBIT_MAX: _ClassVar[TransferCode]
    EXCEEDS_BALANCE_MAX: _ClassVar[TransferCode]
    AMOUNT_OVERFLOWS: _ClassVar[TransferCode]
    TIMEOUT_OUT_OF_RANGE: _ClassVar[TransferCode]

class AccountCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_CODE_UNSPECIFIED: _ClassVar[AccountCode]
    ACCOUNT_OK: _ClassVar[AccountCode]
    ACCOUNT_EXISTS: _ClassVar[AccountCode]
    ACCOUNT_EXISTS_WITH_DIFFERENT_FIELDS: _ClassVar[AccountCode]
ACCOUNT_FLAG_UNSPECIFIED: AccountFlag
ACCOUNT_FLAG_DEBITS_MUST_NOT_EXCEED_CREDITS: AccountFlag
ACCOUNT_FLAG_CREDITS_MUST_NOT_EXCEED_DEBITS: AccountFlag
FREEZE_NONE: Freeze
FREEZE_RECEIVE_ONLY: Freeze
FREEZE_FULL: Freeze
TRANSFER_STATE_UNSPECIFIED: TransferState
TRANSFER_STATE_POSTED: TransferState
TRANSFER_STATE_PENDING: TransferState
TRANSFER_STATE_POSTED_FROM_PENDING: TransferState
TRANSFER_STATE_VOIDED: TransferState
TRANSFER_STATE_EXPIRED: TransferState
TRANSFER_CODE_UNSPECIFIED: TransferCode
OK: TransferCode
EXISTS: TransferCode
LINKED_EVENT_FAILED: TransferCode
LINKED_EVENT_CHAIN_OPEN: TransferCode
ID_MUST_NOT_BE_EMPTY: TransferCode
AMOUNT_MUST_BE_POSITIVE: TransferCode
CURRENCY_UNKNOWN: TransferCode
ACCOUNTS_MUST_BE_DIFFERENT: TransferCode
DEBIT_ACCOUNT_NOT_FOUND: TransferCode
CREDIT_ACCOUNT_NOT_FOUND: TransferCode
CURRENCY_MISMATCH: TransferCode
PENDING_TRANSFER_NOT_FOUND: TransferCode
PENDING_TRANSFER_NOT_PENDING: TransferCode
PENDING_TRANSFER_ALREADY_POSTED: TransferCode
PENDING_TRANSFER_ALREADY_VOIDED: TransferCode
PENDING_TRANSFER_EXPIRED: TransferCode
EXCEEDS_PENDING_AMOUNT: TransferCode
EXISTS_WITH_DIFFERENT_FIELDS: TransferCode
FLAGS_ARE_MUTUALLY_EXCLUSIVE: TransferCode
DEBIT_ACCOUNT_FROZEN: TransferCode
CREDIT_ACCOUNT_FROZEN: TransferCode
EXCEEDS_CREDITS: TransferCode
EXCEEDS_DEBITS: TransferCode
EXCEEDS_DEBIT_MAX_PER_TRANSFER: TransferCode
EXCEEDS_DAILY_DEBIT_MAX: TransferCode
EXCEEDS_BALANCE_MAX: TransferCode
AMOUNT_OVERFLOWS: TransferCode
TIMEOUT_OUT_OF_RANGE: TransferCode
ACCOUNT_CODE_UNSPECIFIED: AccountCode
ACCOUNT_OK: AccountCode
ACCOUNT_EXISTS: AccountCode
ACCOUNT_EXISTS_WITH_DIFFERENT_FIELDS: AccountCode

class Account(_message.Message):
    __slots__ = ("id", "currency", "kind", "flags", "debits_pending", "debits_posted", "credits_pending", "credits_posted", "balance_max_minor", "debit_max_per_transfer_minor", "daily_debit_max_minor", "freeze")
    ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    DEBITS_PENDING_FIELD_NUMBER: _ClassVar[int]
    DEBITS_POSTED_FIELD_NUMBER: _ClassVar[int]
    CREDITS_PENDING_FIELD_NUMBER: _ClassVar[int]
    CREDITS_POSTED_FIELD_NUMBER: _ClassVar[int]
    BALANCE_MAX_MINOR_FIELD_NUMBER: _ClassVar[int]
    DEBIT_MAX_PER_TRANSFER_MINOR_FIELD_NUMBER: _ClassVar[int]
    DAILY_DEBIT_MAX_MINOR_FIELD_NUMBER: _ClassVar[int]
    FREEZE_FIELD_NUMBER: _ClassVar[int]
    id: str
    currency: str
    kind: str
    flags: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    balance_max_minor: int
    debit_max_per_transfer_minor: int
    daily_debit_max_minor: int
    freeze: Freeze
    def __init__(self, id: _Optional[str] = ..., currency: _Optional[str] = ..., kind: _Optional[str] = ..., flags: _Optional[int] = ..., debits_pending: _Optional[int] = ..., debits_posted: _Optional[int] = ..., credits_pending: _Optional[int] = ..., credits_posted: _Optional[int] = ..., balance_max_minor: _Optional[int] = ..., debit_max_per_transfer_minor: _Optional[int] = ..., daily_debit_max_minor: _Optional[int] = ..., freeze: _Optional[_Union[Freeze, str]] = ...) -> None: ...

class Balance(_message.Message):
    __slots__ = ("account_id", "posted_minor", "available_minor", "debits_pending", "credits_pending")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    POSTED_MINOR_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_MINOR_FIELD_NUMBER: _ClassVar[int]
    DEBITS_PENDING_FIELD_NUMBER: _ClassVar[int]
    CREDITS_PENDING_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    posted_minor: int
    available_minor: int
    debits_pending: int
    credits_pending: int
    def __init__(self, account_id: _Optional[str] = ..., posted_minor: _Optional[int] = ..., available_minor: _Optional[int] = ..., debits_pending: _Optional[int] = ..., credits_pending: _Optional[int] = ...) -> None: ...

class Transfer(_message.Message):
    __slots__ = ("id", "debit_account_id", "credit_account_id", "amount_minor", "currency", "linked", "pending", "timeout_s", "post_pending_id", "void_pending_id", "kind", "payment_id", "business_at_us", "state", "seq")
    ID_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LINKED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    POST_PENDING_ID_FIELD_NUMBER: _ClassVar[int]
    VOID_PENDING_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_AT_US_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    id: str
    debit_account_id: str
    credit_account_id: str
    amount_minor: int
    currency: str
    linked: bool
    pending: bool
    timeout_s: int
    post_pending_id: str
    void_pending_id: str
    kind: str
    payment_id: str
    business_at_us: int
    state: TransferState
    seq: int
    def __init__(self, id: _Optional[str] = ..., debit_account_id: _Optional[str] = ..., credit_account_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., linked: _Optional[bool] = ..., pending: _Optional[bool] = ..., timeout_s: _Optional[int] = ..., post_pending_id: _Optional[str] = ..., void_pending_id: _Optional[str] = ..., kind: _Optional[str] = ..., payment_id: _Optional[str] = ..., business_at_us: _Optional[int] = ..., state: _Optional[_Union[TransferState, str]] = ..., seq: _Optional[int] = ...) -> None: ...

class TransferResult(_message.Message):
    __slots__ = ("index", "code", "debit_balance", "credit_balance", "seq")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DEBIT_BALANCE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_BALANCE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    index: int
    code: TransferCode
    debit_balance: Balance
    credit_balance: Balance
    seq: int
    def __init__(self, index: _Optional[int] = ..., code: _Optional[_Union[TransferCode, str]] = ..., debit_balance: _Optional[_Union[Balance, _Mapping]] = ..., credit_balance: _Optional[_Union[Balance, _Mapping]] = ..., seq: _Optional[int] = ...) -> None: ...

class CreateAccountsRequest(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    def __init__(self, accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ...) -> None: ...

class CreateAccountsResponse(_message.Message):
    __slots__ = ("codes",)
    CODES_FIELD_NUMBER: _ClassVar[int]
    codes: _containers.RepeatedScalarFieldContainer[AccountCode]
    def __init__(self, codes: _Optional[_Iterable[_Union[AccountCode, str]]] = ...) -> None: ...

class CreateTransfersRequest(_message.Message):
    __slots__ = ("transfers",)
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    transfers: _containers.RepeatedCompositeFieldContainer[Transfer]
    def __init__(self, transfers: _Optional[_Iterable[_Union[Transfer, _Mapping]]] = ...) -> None: ...

class CreateTransfersResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[TransferResult]
    def __init__(self, results: _Optional[_Iterable[_Union[TransferResult, _Mapping]]] = ...) -> None: ...

class LookupAccountsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class LookupAccountsResponse(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    def __init__(self, accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ...) -> None: ...

class LookupTransfersRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class LookupTransfersResponse(_message.Message):
    __slots__ = ("transfers",)
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    transfers: _containers.RepeatedCompositeFieldContainer[Transfer]
    def __init__(self, transfers: _Optional[_Iterable[_Union[Transfer, _Mapping]]] = ...) -> None: ...

class GetAccountTransfersRequest(_message.Message):
    __slots__ = ("account_id", "page")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    page: _common_pb2.PageRequest
    def __init__(self, account_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class GetAccountTransfersResponse(_message.Message):
    __slots__ = ("transfers", "page")
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    transfers: _containers.RepeatedCompositeFieldContainer[Transfer]
    page: _common_pb2.PageResponse
    def __init__(self, transfers: _Optional[_Iterable[_Union[Transfer, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class ExpirePendingRequest(_message.Message):
    __slots__ = ("limit", "dry_run")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    limit: int
    dry_run: bool
    def __init__(self, limit: _Optional[int] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ExpirePendingResponse(_message.Message):
    __slots__ = ("expired",)
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    expired: _containers.RepeatedCompositeFieldContainer[Transfer]
    def __init__(self, expired: _Optional[_Iterable[_Union[Transfer, _Mapping]]] = ...) -> None: ...

class StreamPostingsRequest(_message.Message):
    __slots__ = ("after_seq", "follow", "batch_size")
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    follow: bool
    batch_size: int
    def __init__(self, after_seq: _Optional[int] = ..., follow: _Optional[bool] = ..., batch_size: _Optional[int] = ...) -> None: ...

class PostingBatch(_message.Message):
    __slots__ = ("postings", "last_seq", "ledger")
    POSTINGS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    LEDGER_FIELD_NUMBER: _ClassVar[int]
    postings: _containers.RepeatedCompositeFieldContainer[Transfer]
    last_seq: int
    ledger: str
    def __init__(self, postings: _Optional[_Iterable[_Union[Transfer, _Mapping]]] = ..., last_seq: _Optional[int] = ..., ledger: _Optional[str] = ...) -> None: ...
