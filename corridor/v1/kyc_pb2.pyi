from corridor.v1 import node_pb2 as _node_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DescribeWalletsRequest(_message.Message):
    __slots__ = ("wallet_ids",)
    WALLET_IDS_FIELD_NUMBER: _ClassVar[int]
    wallet_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, wallet_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class WalletProfile(_message.Message):
    __slots__ = ("wallet_id", "operator_id", "kind", "tier", "merchant_category", "region", "parent_wallet_id")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    MERCHANT_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    PARENT_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    operator_id: str
    kind: _node_pb2.WalletKind
    tier: int
    merchant_category: str
    region: str
    parent_wallet_id: str
    def __init__(self, wallet_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., kind: _Optional[_Union[_node_pb2.WalletKind, str]] = ..., tier: _Optional[int] = ..., merchant_category: _Optional[str] = ..., region: _Optional[str] = ..., parent_wallet_id: _Optional[str] = ...) -> None: ...

class DescribeWalletsResponse(_message.Message):
    __slots__ = ("wallets",)
    WALLETS_FIELD_NUMBER: _ClassVar[int]
    wallets: _containers.RepeatedCompositeFieldContainer[WalletProfile]
    def __init__(self, wallets: _Optional[_Iterable[_Union[WalletProfile, _Mapping]]] = ...) -> None: ...

class RevealHolderRequest(_message.Message):
    __slots__ = ("wallet_id", "supervisor_jurisdiction", "supervisor", "reason", "case_id", "audit_hash")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    SUPERVISOR_JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    SUPERVISOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    AUDIT_HASH_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    supervisor_jurisdiction: str
    supervisor: str
    reason: str
    case_id: str
    audit_hash: str
    def __init__(self, wallet_id: _Optional[str] = ..., supervisor_jurisdiction: _Optional[str] = ..., supervisor: _Optional[str] = ..., reason: _Optional[str] = ..., case_id: _Optional[str] = ..., audit_hash: _Optional[str] = ...) -> None: ...

class KycHolder(_message.Message):
    __slots__ = ("wallet_id", "holder_name", "holder_document", "operator_id", "tier")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_NAME_FIELD_NUMBER: _ClassVar[int]
    HOLDER_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    holder_name: str
    holder_document: str
    operator_id: str
    tier: int
    def __init__(self, wallet_id: _Optional[str] = ..., holder_name: _Optional[str] = ..., holder_document: _Optional[str] = ..., operator_id: _Optional[str] = ..., tier: _Optional[int] = ...) -> None: ...
