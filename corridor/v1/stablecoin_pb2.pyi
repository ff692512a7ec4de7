from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StablecoinKycRoute(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STABLECOIN_KYC_ROUTE_UNSPECIFIED: _ClassVar[StablecoinKycRoute]
    STABLECOIN_KYC_ROUTE_REGULATED: _ClassVar[StablecoinKycRoute]
    STABLECOIN_KYC_ROUTE_P2P: _ClassVar[StablecoinKycRoute]

class StablecoinTransferStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STABLECOIN_TRANSFER_STATUS_UNSPECIFIED: _ClassVar[StablecoinTransferStatus]
    STABLECOIN_TRANSFER_STATUS_SETTLED: _ClassVar[StablecoinTransferStatus]
    STABLECOIN_TRANSFER_STATUS_DELAYED: _ClassVar[StablecoinTransferStatus]
    STABLECOIN_TRANSFER_STATUS_STUCK: _ClassVar[StablecoinTransferStatus]
STABLECOIN_KYC_ROUTE_UNSPECIFIED: StablecoinKycRoute
STABLECOIN_KYC_ROUTE_REGULATED: StablecoinKycRoute
STABLECOIN_KYC_ROUTE_P2P: StablecoinKycRoute
STABLECOIN_TRANSFER_STATUS_UNSPECIFIED: StablecoinTransferStatus
STABLECOIN_TRANSFER_STATUS_SETTLED: StablecoinTransferStatus
STABLECOIN_TRANSFER_STATUS_DELAYED: StablecoinTransferStatus
STABLECOIN_TRANSFER_STATUS_STUCK: StablecoinTransferStatus

class StablecoinAdvanceRequest(_message.Message):
    __slots__ = ("to_s",)
    TO_S_FIELD_NUMBER: _ClassVar[int]
    to_s: float
    def __init__(self, to_s: _Optional[float] = ...) -> None: ...

class StablecoinAdvanceResponse(_message.Message):
    __slots__ = ("market",)
    MARKET_FIELD_NUMBER: _ClassVar[int]
    market: StablecoinMarket
    def __init__(self, market: _Optional[_Union[StablecoinMarket, _Mapping]] = ...) -> None: ...

class StablecoinSubmitTransferRequest(_message.Message):
    __slots__ = ("idempotency_key", "amount_minor", "corridor", "at_s", "chain", "tip_tier", "kyc_route")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CORRIDOR_FIELD_NUMBER: _ClassVar[int]
    AT_S_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    TIP_TIER_FIELD_NUMBER: _ClassVar[int]
    KYC_ROUTE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    amount_minor: int
    corridor: str
    at_s: float
    chain: str
    tip_tier: str
    kyc_route: StablecoinKycRoute
    def __init__(self, idempotency_key: _Optional[str] = ..., amount_minor: _Optional[int] = ..., corridor: _Optional[str] = ..., at_s: _Optional[float] = ..., chain: _Optional[str] = ..., tip_tier: _Optional[str] = ..., kyc_route: _Optional[_Union[StablecoinKycRoute, str]] = ...) -> None: ...

class StablecoinTransferReceipt(_message.Message):
    __slots__ = ("transfer_id", "corridor", "chain", "amount_minor", "currency", "submitted_at_s", "on_ramp_route", "off_ramp_route", "on_ramp_fee_minor", "capital_control_minor", "network_fee_minor", "off_ramp_fee_minor", "total_cost_minor", "cost_bps", "block_number", "included_at_s", "finality_at_s", "credited_at_s", "settle_s", "status", "token_price", "depeg_exposure_minor")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    CORRIDOR_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_S_FIELD_NUMBER: _ClassVar[int]
    ON_RAMP_ROUTE_FIELD_NUMBER: _ClassVar[int]
    OFF_RAMP_ROUTE_FIELD_NUMBER: _ClassVar[int]
    ON_RAMP_FEE_MINOR_FIELD_NUMBER: _ClassVar[int]
    CAPITAL_CONTROL_MINOR_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FEE_MINOR_FIELD_NUMBER: _ClassVar[int]
    OFF_RAMP_FEE_MINOR_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_MINOR_FIELD_NUMBER: _ClassVar[int]
    COST_BPS_FIELD_NUMBER: _ClassVar[int]
    BLOCK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    INCLUDED_AT_S_FIELD_NUMBER: _ClassVar[int]
    FINALITY_AT_S_FIELD_NUMBER: _ClassVar[int]
    CREDITED_AT_S_FIELD_NUMBER: _ClassVar[int]
    SETTLE_S_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_PRICE_FIELD_NUMBER: _ClassVar[int]
    DEPEG_EXPOSURE_MINOR_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    corridor: str
    chain: str
    amount_minor: int
    currency: str
    submitted_at_s: float
    on_ramp_route: str
    off_ramp_route: str
    on_ramp_fee_minor: int
    capital_control_minor: int
    network_fee_minor: int
    off_ramp_fee_minor: int
    total_cost_minor: int
    cost_bps: float
    block_number: int
    included_at_s: float
    finality_at_s: float
    credited_at_s: float
    settle_s: float
    status: StablecoinTransferStatus
    token_price: float
    depeg_exposure_minor: int
    def __init__(self, transfer_id: _Optional[str] = ..., corridor: _Optional[str] = ..., chain: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., submitted_at_s: _Optional[float] = ..., on_ramp_route: _Optional[str] = ..., off_ramp_route: _Optional[str] = ..., on_ramp_fee_minor: _Optional[int] = ..., capital_control_minor: _Optional[int] = ..., network_fee_minor: _Optional[int] = ..., off_ramp_fee_minor: _Optional[int] = ..., total_cost_minor: _Optional[int] = ..., cost_bps: _Optional[float] = ..., block_number: _Optional[int] = ..., included_at_s: _Optional[float] = ..., finality_at_s: _Optional[float] = ..., credited_at_s: _Optional[float] = ..., settle_s: _Optional[float] = ..., status: _Optional[_Union[StablecoinTransferStatus, str]] = ..., token_price: _Optional[float] = ..., depeg_exposure_minor: _Optional[int] = ...) -> None: ...

class StablecoinSubmitTransferResponse(_message.Message):
    __slots__ = ("receipt",)
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    receipt: StablecoinTransferReceipt
    def __init__(self, receipt: _Optional[_Union[StablecoinTransferReceipt, _Mapping]] = ...) -> None: ...

class StablecoinTransferOrder(_message.Message):
    __slots__ = ("amount_minor", "corridor", "at_s", "chain", "tip_tier", "kyc_route")
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CORRIDOR_FIELD_NUMBER: _ClassVar[int]
    AT_S_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    TIP_TIER_FIELD_NUMBER: _ClassVar[int]
    KYC_ROUTE_FIELD_NUMBER: _ClassVar[int]
    amount_minor: int
    corridor: str
    at_s: float
    chain: str
    tip_tier: str
    kyc_route: StablecoinKycRoute
    def __init__(self, amount_minor: _Optional[int] = ..., corridor: _Optional[str] = ..., at_s: _Optional[float] = ..., chain: _Optional[str] = ..., tip_tier: _Optional[str] = ..., kyc_route: _Optional[_Union[StablecoinKycRoute, str]] = ...) -> None: ...

class StablecoinSubmitTransfersRequest(_message.Message):
    __slots__ = ("idempotency_key", "transfers")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    transfers: _containers.RepeatedCompositeFieldContainer[StablecoinTransferOrder]
    def __init__(self, idempotency_key: _Optional[str] = ..., transfers: _Optional[_Iterable[_Union[StablecoinTransferOrder, _Mapping]]] = ...) -> None: ...

class StablecoinTransferOutcome(_message.Message):
    __slots__ = ("transfer_id", "total_cost_minor", "settle_s", "status", "token_price")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_MINOR_FIELD_NUMBER: _ClassVar[int]
    SETTLE_S_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_PRICE_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    total_cost_minor: int
    settle_s: float
    status: StablecoinTransferStatus
    token_price: float
    def __init__(self, transfer_id: _Optional[str] = ..., total_cost_minor: _Optional[int] = ..., settle_s: _Optional[float] = ..., status: _Optional[_Union[StablecoinTransferStatus, str]] = ..., token_price: _Optional[float] = ...) -> None: ...

class StablecoinSubmitTransfersResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[StablecoinTransferOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[StablecoinTransferOutcome, _Mapping]]] = ...) -> None: ...

class StablecoinMintRequest(_message.Message):
    __slots__ = ("idempotency_key", "owner", "amount_minor", "at_s")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    AT_S_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    owner: str
    amount_minor: int
    at_s: float
    def __init__(self, idempotency_key: _Optional[str] = ..., owner: _Optional[str] = ..., amount_minor: _Optional[int] = ..., at_s: _Optional[float] = ...) -> None: ...

class StablecoinMintResponse(_message.Message):
    __slots__ = ("tokens_minor", "fee_minor", "balance_minor")
    TOKENS_MINOR_FIELD_NUMBER: _ClassVar[int]
    FEE_MINOR_FIELD_NUMBER: _ClassVar[int]
    BALANCE_MINOR_FIELD_NUMBER: _ClassVar[int]
    tokens_minor: int
    fee_minor: int
    balance_minor: int
    def __init__(self, tokens_minor: _Optional[int] = ..., fee_minor: _Optional[int] = ..., balance_minor: _Optional[int] = ...) -> None: ...

class StablecoinRedeemRequest(_message.Message):
    __slots__ = ("idempotency_key", "owner", "amount_minor", "at_s")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    AT_S_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    owner: str
    amount_minor: int
    at_s: float
    def __init__(self, idempotency_key: _Optional[str] = ..., owner: _Optional[str] = ..., amount_minor: _Optional[int] = ..., at_s: _Optional[float] = ...) -> None: ...

class StablecoinRedeemResponse(_message.Message):
    __slots__ = ("queue_ahead_minor", "expected_wait_days", "balance_minor", "paid_minor")
    QUEUE_AHEAD_MINOR_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_WAIT_DAYS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_MINOR_FIELD_NUMBER: _ClassVar[int]
    PAID_MINOR_FIELD_NUMBER: _ClassVar[int]
    queue_ahead_minor: int
    expected_wait_days: float
    balance_minor: int
    paid_minor: int
    def __init__(self, queue_ahead_minor: _Optional[int] = ..., expected_wait_days: _Optional[float] = ..., balance_minor: _Optional[int] = ..., paid_minor: _Optional[int] = ...) -> None: ...

class StablecoinGetMarketRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StablecoinVenue(_message.Message):
    __slots__ = ("name", "kind", "chain", "price", "token_minor", "usd_minor")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_MINOR_FIELD_NUMBER: _ClassVar[int]
    USD_MINOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    chain: str
    price: float
    token_minor: int
    usd_minor: int
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., chain: _Optional[str] = ..., price: _Optional[float] = ..., token_minor: _Optional[int] = ..., usd_minor: _Optional[int] = ...) -> None: ...

class StablecoinChain(_message.Message):
    __slots__ = ("name", "fee_market", "base_fee", "pending_gas", "transfer_fee_minor", "block_number")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FEE_MARKET_FIELD_NUMBER: _ClassVar[int]
    BASE_FEE_FIELD_NUMBER: _ClassVar[int]
    PENDING_GAS_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FEE_MINOR_FIELD_NUMBER: _ClassVar[int]
    BLOCK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    name: str
    fee_market: str
    base_fee: float
    pending_gas: float
    transfer_fee_minor: int
    block_number: int
    def __init__(self, name: _Optional[str] = ..., fee_market: _Optional[str] = ..., base_fee: _Optional[float] = ..., pending_gas: _Optional[float] = ..., transfer_fee_minor: _Optional[int] = ..., block_number: _Optional[int] = ...) -> None: ...

class StablecoinMarket(_message.Message):
    __slots__ = ("now_s", "now_at_us", "price", "min_venue_price", "supply_minor", "reserves_mtm_minor", "coverage", "redemption_queue_minor", "redemptions_cum_pct", "bank_open", "alarm", "migration_share", "venues", "chains", "supply_start_minor", "burned_minor", "minted_minor")
    NOW_S_FIELD_NUMBER: _ClassVar[int]
    NOW_AT_US_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    MIN_VENUE_PRICE_FIELD_NUMBER: _ClassVar[int]
    SUPPLY_MINOR_FIELD_NUMBER: _ClassVar[int]
    RESERVES_MTM_MINOR_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    REDEMPTION_QUEUE_MINOR_FIELD_NUMBER: _ClassVar[int]
    REDEMPTIONS_CUM_PCT_FIELD_NUMBER: _ClassVar[int]
    BANK_OPEN_FIELD_NUMBER: _ClassVar[int]
    ALARM_FIELD_NUMBER: _ClassVar[int]
    MIGRATION_SHARE_FIELD_NUMBER: _ClassVar[int]
    VENUES_FIELD_NUMBER: _ClassVar[int]
    CHAINS_FIELD_NUMBER: _ClassVar[int]
    SUPPLY_START_MINOR_FIELD_NUMBER: _ClassVar[int]
    BURNED_MINOR_FIELD_NUMBER: _ClassVar[int]
    MINTED_MINOR_FIELD_NUMBER: _ClassVar[int]
    now_s: float
    now_at_us: int
    price: float
    min_venue_price: float
    supply_minor: int
    reserves_mtm_minor: int
    coverage: float
    redemption_queue_minor: int
    redemptions_cum_pct: float
    bank_open: bool
    alarm: float
    migration_share: float
    venues: _containers.RepeatedCompositeFieldContainer[StablecoinVenue]
    chains: _containers.RepeatedCompositeFieldContainer[StablecoinChain]
    supply_start_minor: int
    burned_minor: int
    minted_minor: int
    def __init__(self, now_s: _Optional[float] = ..., now_at_us: _Optional[int] = ..., price: _Optional[float] = ..., min_venue_price: _Optional[float] = ..., supply_minor: _Optional[int] = ..., reserves_mtm_minor: _Optional[int] = ..., coverage: _Optional[float] = ..., redemption_queue_minor: _Optional[int] = ..., redemptions_cum_pct: _Optional[float] = ..., bank_open: _Optional[bool] = ..., alarm: _Optional[float] = ..., migration_share: _Optional[float] = ..., venues: _Optional[_Iterable[_Union[StablecoinVenue, _Mapping]]] = ..., chains: _Optional[_Iterable[_Union[StablecoinChain, _Mapping]]] = ..., supply_start_minor: _Optional[int] = ..., burned_minor: _Optional[int] = ..., minted_minor: _Optional[int] = ...) -> None: ...

class StablecoinGetSummaryRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StablecoinCalibrationRow(_message.Message):
    __slots__ = ("metric", "low", "high", "simulated", "ok")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    SIMULATED_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    metric: str
    low: float
    high: float
    simulated: float
    ok: bool
    def __init__(self, metric: _Optional[str] = ..., low: _Optional[float] = ..., high: _Optional[float] = ..., simulated: _Optional[float] = ..., ok: _Optional[bool] = ...) -> None: ...

class StablecoinGetSummaryResponse(_message.Message):
    __slots__ = ("spec", "seed", "min_price", "hours_below_0_99", "net_redemptions_pct_4d", "final_price", "supply_start_minor", "supply_end_minor", "reserve_losses_minor", "fire_sale_minor", "calibration", "summary_json")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    HOURS_BELOW_0_99_FIELD_NUMBER: _ClassVar[int]
    NET_REDEMPTIONS_PCT_4D_FIELD_NUMBER: _ClassVar[int]
    FINAL_PRICE_FIELD_NUMBER: _ClassVar[int]
    SUPPLY_START_MINOR_FIELD_NUMBER: _ClassVar[int]
    SUPPLY_END_MINOR_FIELD_NUMBER: _ClassVar[int]
    RESERVE_LOSSES_MINOR_FIELD_NUMBER: _ClassVar[int]
    FIRE_SALE_MINOR_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_JSON_FIELD_NUMBER: _ClassVar[int]
    spec: str
    seed: int
    min_price: float
    hours_below_0_99: float
    net_redemptions_pct_4d: float
    final_price: float
    supply_start_minor: int
    supply_end_minor: int
    reserve_losses_minor: int
    fire_sale_minor: int
    calibration: _containers.RepeatedCompositeFieldContainer[StablecoinCalibrationRow]
    summary_json: str
    def __init__(self, spec: _Optional[str] = ..., seed: _Optional[int] = ..., min_price: _Optional[float] = ..., hours_below_0_99: _Optional[float] = ..., net_redemptions_pct_4d: _Optional[float] = ..., final_price: _Optional[float] = ..., supply_start_minor: _Optional[int] = ..., supply_end_minor: _Optional[int] = ..., reserve_losses_minor: _Optional[int] = ..., fire_sale_minor: _Optional[int] = ..., calibration: _Optional[_Iterable[_Union[StablecoinCalibrationRow, _Mapping]]] = ..., summary_json: _Optional[str] = ...) -> None: ...

class StablecoinGetTimeseriesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StablecoinTimeseriesRow(_message.Message):
    __slots__ = ("t_s", "price", "min_venue_price", "supply_minor", "reserves_mtm_minor", "coverage", "redemptions_cum_pct", "requests_cum_pct", "queue_minor", "exits_minor", "alarm", "arb_inventory_minor", "arb_cash_minor", "liquid_minor", "frozen_minor", "yield_3m_pct", "yield_impact_bp", "bank_open", "migration_share", "at", "chains")
    T_S_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    MIN_VENUE_PRICE_FIELD_NUMBER: _ClassVar[int]
    SUPPLY_MINOR_FIELD_NUMBER: _ClassVar[int]
    RESERVES_MTM_MINOR_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    REDEMPTIONS_CUM_PCT_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_CUM_PCT_FIELD_NUMBER: _ClassVar[int]
    QUEUE_MINOR_FIELD_NUMBER: _ClassVar[int]
    EXITS_MINOR_FIELD_NUMBER: _ClassVar[int]
    ALARM_FIELD_NUMBER: _ClassVar[int]
    ARB_INVENTORY_MINOR_FIELD_NUMBER: _ClassVar[int]
    ARB_CASH_MINOR_FIELD_NUMBER: _ClassVar[int]
    LIQUID_MINOR_FIELD_NUMBER: _ClassVar[int]
    FROZEN_MINOR_FIELD_NUMBER: _ClassVar[int]
    YIELD_3M_PCT_FIELD_NUMBER: _ClassVar[int]
    YIELD_IMPACT_BP_FIELD_NUMBER: _ClassVar[int]
    BANK_OPEN_FIELD_NUMBER: _ClassVar[int]
    MIGRATION_SHARE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    CHAINS_FIELD_NUMBER: _ClassVar[int]
    t_s: float
    price: float
    min_venue_price: float
    supply_minor: int
    reserves_mtm_minor: int
    coverage: float
    redemptions_cum_pct: float
    requests_cum_pct: float
    queue_minor: int
    exits_minor: int
    alarm: float
    arb_inventory_minor: int
    arb_cash_minor: int
    liquid_minor: int
    frozen_minor: int
    yield_3m_pct: float
    yield_impact_bp: float
    bank_open: bool
    migration_share: float
    at: str
    chains: _containers.RepeatedCompositeFieldContainer[StablecoinChainSample]
    def __init__(self, t_s: _Optional[float] = ..., price: _Optional[float] = ..., min_venue_price: _Optional[float] = ..., supply_minor: _Optional[int] = ..., reserves_mtm_minor: _Optional[int] = ..., coverage: _Optional[float] = ..., redemptions_cum_pct: _Optional[float] = ..., requests_cum_pct: _Optional[float] = ..., queue_minor: _Optional[int] = ..., exits_minor: _Optional[int] = ..., alarm: _Optional[float] = ..., arb_inventory_minor: _Optional[int] = ..., arb_cash_minor: _Optional[int] = ..., liquid_minor: _Optional[int] = ..., frozen_minor: _Optional[int] = ..., yield_3m_pct: _Optional[float] = ..., yield_impact_bp: _Optional[float] = ..., bank_open: _Optional[bool] = ..., migration_share: _Optional[float] = ..., at: _Optional[str] = ..., chains: _Optional[_Iterable[_Union[StablecoinChainSample, _Mapping]]] = ...) -> None: ...

class StablecoinChainSample(_message.Message):
    __slots__ = ("name", "base_fee", "mempool_gas", "transfer_fee_minor")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_FEE_FIELD_NUMBER: _ClassVar[int]
    MEMPOOL_GAS_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FEE_MINOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    base_fee: float
    mempool_gas: float
    transfer_fee_minor: int
    def __init__(self, name: _Optional[str] = ..., base_fee: _Optional[float] = ..., mempool_gas: _Optional[float] = ..., transfer_fee_minor: _Optional[int] = ...) -> None: ...

class StablecoinGetTimeseriesResponse(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[StablecoinTimeseriesRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[StablecoinTimeseriesRow, _Mapping]]] = ...) -> None: ...
