"""The ``pos`` section of the site configuration: exception-rule thresholds, which camera and zones watch each
register, and how much video around an exception its clip link covers. Strict (unknown keys are errors), every
field described and bounded, units in names.

>>> cfg = PosConfig.model_validate({"tills": [{"store": "9", "register": "2", "camera": "s9/till-2",
...                                            "cashier_zone": "cashier", "customer_zone": "customer"}]})
>>> cfg.till("9", "2").camera, cfg.till("9", "3"), cfg.rules.high_discount.min_discount_pct
('s9/till-2', None, 30.0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from storewatch.core.ids import is_slug
from storewatch.pos.model import PosId, allow_register_field

allow_register_field()


def _slug(value: str) -> str:
    if not is_slug(value):
        raise ValueError("must be a slug: lower-case letters, digits, '-' or '_', starting with a letter or digit")
    return value


def _camera(value: str) -> str:
    store, _, camera = value.partition("/")
    if not (is_slug(store) and is_slug(camera)):
        raise ValueError(f"{value!r} is not a camera id: give store/camera, both slugs (e.g. s9/till-2)")
    return value


def timezone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/London)") from None
    return value


Slug = Annotated[str, AfterValidator(_slug)]
CameraRef = Annotated[str, AfterValidator(_camera)]
Timezone = Annotated[str, AfterValidator(timezone_name)]
"""An IANA time zone name (``Europe/London``), checked."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSwitch(_Strict):
    enabled: bool = Field(True, description="Whether the rule raises exceptions.")


class VoidLineConfig(RuleSwitch):
    min_amount_minor: int = Field(0, ge=0, le=10_000_000, description="Ignore voids worth less (minor units).")


class RefundWithoutReceiptConfig(RuleSwitch):
    min_amount_minor: int = Field(0, ge=0, le=10_000_000, description="Ignore unlinked refunds worth less.")


class PriceOverrideConfig(RuleSwitch):
    min_reduction_pct: float = Field(
        0.0, ge=0.0, le=100.0, description="Raise when an override cuts the price by at least this much."
    )
    include_increases: bool = Field(False, description="Also raise on overrides that raise the price.")


class HighDiscountConfig(RuleSwitch):
    min_discount_pct: float = Field(30.0, gt=0.0, le=100.0, description="Discount as % of the goods' value.")
    min_discount_minor: int = Field(500, ge=0, le=10_000_000, description="And at least this much money off.")
    include_automatic: bool = Field(
        False, description="Count discounts the POS applied itself (promotions, loyalty), not only the cashier's."
    )


class PeerRateConfig(RuleSwitch):
    """A cashier's rate (events per retail transaction) against the other cashiers of the store in the period:
    raised when the robust z-score (median and MAD of the peers) and the ratio to the peers' median both pass."""

    min_robust_z: float = Field(3.5, ge=0.0, le=100.0, description="Robust z-score 0.6745 (rate - median) / MAD.")
    min_ratio_to_median: float = Field(2.0, ge=1.0, le=1000.0, description="Rate at least this times the median.")
    min_events: int = Field(3, ge=1, le=10_000, description="The cashier's events in the period, at least.")
    min_transactions: int = Field(20, ge=1, le=1_000_000, description="Retail transactions to rate a cashier.")
    min_peers: int = Field(3, ge=1, le=1000, description="Other rated cashiers needed for a baseline.")


class RefundNoCustomerConfig(RuleSwitch):
    before_s: float = Field(30.0, ge=0.0, le=600.0, description="Look from this long before the refund began.")
    after_s: float = Field(10.0, ge=0.0, le=600.0, description="Until this long after it ended.")
    min_presence_s: float = Field(2.0, gt=0.0, le=600.0, description="A customer seen less than this: raised.")


class ScanGapConfig(RuleSwitch):
    gap_s: float = Field(10.0, ge=1.0, le=600.0, description="Time without a scan that counts as a gap.")
    min_activity_s: float = Field(4.0, gt=0.0, le=600.0, description="Activity in the scanner area during it.")


class CashierAbsentConfig(RuleSwitch):
    before_s: float = Field(2.0, ge=0.0, le=60.0, description="From this long before the drawer opened.")
    open_s: float = Field(10.0, gt=0.0, le=600.0, description="How long the drawer is taken to stay open.")
    min_presence_s: float = Field(1.0, gt=0.0, le=600.0, description="A cashier seen less than this: raised.")
    on_cash_tender: bool = Field(True, description="A cash tender opens the drawer too (not only a no-sale).")


class PosRulesConfig(_Strict):
    void_line: VoidLineConfig = Field(default_factory=VoidLineConfig, description="Lines voided.")
    post_void: RuleSwitch = Field(default_factory=RuleSwitch, description="Whole transaction voided after tender.")
    no_sale: RuleSwitch = Field(default_factory=RuleSwitch, description="Drawer opened without a sale.")
    refund_without_receipt: RefundWithoutReceiptConfig = Field(
        default_factory=RefundWithoutReceiptConfig, description="A return linked to no original transaction."
    )
    manual_price_override: PriceOverrideConfig = Field(
        default_factory=PriceOverrideConfig, description="A price typed over the item's own."
    )
    high_discount: HighDiscountConfig = Field(default_factory=HighDiscountConfig, description="Large discounts.")
    excessive_voids: PeerRateConfig = Field(default_factory=PeerRateConfig, description="Void lines per transaction.")
    excessive_refunds: PeerRateConfig = Field(
        default_factory=PeerRateConfig, description="Refund transactions per transaction."
    )
    refund_no_customer: RefundNoCustomerConfig = Field(
        default_factory=RefundNoCustomerConfig, description="Nobody on the customer side during a refund (video)."
    )
    scan_gap: ScanGapConfig = Field(default_factory=ScanGapConfig, description="Scanner activity, no scan (video).")
    cashier_absent_drawer_open: CashierAbsentConfig = Field(
        default_factory=CashierAbsentConfig, description="Drawer open, nobody at the till (video)."
    )


class TillMapping(_Strict):
    """Which camera watches a register, and its zones (ids of the camera's zones in the site file)."""

    store: PosId = Field(description="The store id as the POS writes it (RetailStoreID).")
    register: PosId = Field(description="The register id as the POS writes it (WorkstationID).")
    camera: CameraRef = Field(description="The camera watching the till: store/camera of the site file.")
    cashier_zone: Slug | None = Field(None, description="Zone where the cashier stands (behind the till).")
    customer_zone: Slug | None = Field(None, description="Zone on the customer side of the till.")
    scanner_zone: Slug | None = Field(None, description="Zone over the scanner / bagging area.")


class ClipConfig(_Strict):
    before_s: float = Field(10.0, ge=0.0, le=600.0, description="Video linked from before the exception.")
    after_s: float = Field(10.0, ge=0.0, le=600.0, description="And after it.")
    default_duration_s: float = Field(
        60.0, gt=0.0, le=3600.0, description="A transaction's assumed length when the POS gives no start time."
    )


class DropFolderSource(_Strict):
    """A folder a system (or a copy job) writes files into, watched by ``storewatch run`` / ``edge`` (and
    ``storewatch pos watch``)."""

    path: str = Field(
        min_length=1, description="The folder (relative: to the data folder); done/ and quarantine/ are made in it."
    )
    settle_s: float = Field(2.0, ge=0.0, le=3600.0, description="A file unchanged this long is taken as complete.")
    poll_s: float = Field(2.0, gt=0.0, le=3600.0, description="How often the folder is looked at.")


class HttpSource(_Strict):
    """``POST /api/v1/pos/transactions`` on the dashboard app, signed with a shared secret (HMAC-SHA256 over
    ``<timestamp>.<body>`` in ``X-Storewatch-Signature``, as the sync endpoint and the alert webhooks) or sent with
    an API token holding ``pos.ingest``."""

    enabled: bool = Field(False, description="Whether the dashboard app accepts POS transactions over HTTP.")
    secret_env: str = Field(
        "STOREWATCH_POS_SECRET",
        pattern=r"^[A-Z_][A-Z0-9_]{0,63}$",
        description="Environment variable holding the shared secret (never the secret itself in the site file); "
        "unset: API tokens only.",
    )
    max_body_mb: float = Field(32.0, gt=0.0, le=1024.0, description="Largest body accepted (413 beyond).")


PosFormat = Literal["poslog", "json", "jsonl", "csv"]


class MqttSource(_Strict):
    """Transactions published to an MQTT broker (``storewatch pos mqtt``): each message a POSLog document, a JSON
    transaction or list, JSON Lines or CSV."""

    host: str = Field("127.0.0.1", min_length=1, description="Broker host.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port.")
    topic: str = Field("storewatch/pos/#", min_length=1, max_length=255, description="Topic filter subscribed to.")
    qos: int = Field(1, ge=0, le=2, description="Subscription QoS (1: at least once; ingest is idempotent).")
    format: PosFormat | None = Field(
        None, description="Format of every message; none: told by the message's first byte (<, {, [) or CSV header."
    )
    client_id: str = Field("storewatch-pos", min_length=1, max_length=64, description="MQTT client id.")
    username: str | None = Field(None, max_length=120, description="User name, if the broker wants one.")
    password_env: str | None = Field(
        None, pattern=r"^[A-Z_][A-Z0-9_]{0,63}$", description="Environment variable holding the password."
    )


class NatsSource(_Strict):
    """Transactions published to NATS JetStream subjects (``storewatch run`` / ``edge``, ``storewatch pos nats``):
    each message one document (a POSLog, a JSON transaction or list, JSON Lines or CSV). A durable pull consumer
    reads them; a message is acknowledged only once stored (its transactions saved, its bad records quarantined),
    so one in flight when the database or the process goes away is delivered again (ingest is idempotent)."""

    url: str = Field("nats://127.0.0.1:4222", min_length=1, max_length=300, description="NATS server URL.")
    stream: str = Field(
        "STOREWATCH_POS", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="JetStream stream (made if missing)."
    )
    subjects: list[str] = Field(
        default_factory=lambda: ["pos.transactions.>"], min_length=1, max_length=20,
        description="Subjects the stream holds (publishers send to these).",
    )  # fmt: skip
    durable: str = Field(
        "storewatch-pos", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Durable consumer name (its position)."
    )
    format: PosFormat | None = Field(
        None, description="Format of every message; none: told by the message's first byte (<, {, [) or CSV header."
    )
    batch: int = Field(100, ge=1, le=10_000, description="Messages fetched (and stored) at a time.")
    ack_wait_s: float = Field(
        120.0, ge=5.0, le=3600.0, description="A message not acknowledged this long is delivered again."
    )
    keep_days: float = Field(7.0, gt=0.0, le=365.0, description="How long the stream keeps messages.")


class PosSources(_Strict):
    drop_folders: list[DropFolderSource] = Field(default_factory=list, max_length=100, description="Drop folders.")
    http: HttpSource = Field(default_factory=HttpSource, description="The dashboard's HTTP endpoint.")
    mqtt: MqttSource | None = Field(None, description="An MQTT subscription.")
    nats: NatsSource | None = Field(None, description="A NATS JetStream subscription.")


class PosConfig(_Strict):
    sources: PosSources = Field(default_factory=PosSources, description="Where transactions come from.")
    timezone: Annotated[str, AfterValidator(timezone_name)] = Field(
        "UTC", description="IANA time zone of POS times written without an offset (NCR writes store-local times)."
    )
    rules: PosRulesConfig = Field(default_factory=PosRulesConfig, description="Exception rules and thresholds.")
    tills: list[TillMapping] = Field(default_factory=list, max_length=10_000, description="Register -> camera.")
    clip: ClipConfig = Field(default_factory=ClipConfig, description="Video linked to each exception.")
    frame_gap_s: float = Field(
        1.0, gt=0.0, le=60.0, description="Longest time one recorded track frame counts for (frames are sparse)."
    )

    @field_validator("tills")
    @classmethod
    def _unique_tills(cls, tills: list[TillMapping]) -> list[TillMapping]:
        seen: set[tuple[str, str]] = set()
        for t in tills:
            if (t.store, t.register) in seen:
                raise ValueError(f"register {t.store}/{t.register} is mapped twice")
            seen.add((t.store, t.register))
        return tills

    def till(self, store: str, register: str) -> TillMapping | None:
        """The mapping of a register, or None."""
        for t in self.tills:
            if t.store == store and t.register == register:
                return t
        return None


def load_pos_config(path: Path) -> PosConfig:
    """A ``PosConfig`` from a YAML file: a site file (its ``pos:`` section, checked against the site's cameras and
    zones, errors with their lines), a file with a top-level ``pos:`` key, or the section alone; a
    ``ConfigError`` naming each wrong key path otherwise."""
    import yaml
    from pydantic import ValidationError

    from storewatch.errors import ConfigError

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if isinstance(data, dict) and "site" in data and "stores" in data:
        from storewatch.config.loader import load_site_config

        return load_site_config(path).pos
    if isinstance(data, dict) and "pos" in data:
        data = data["pos"]
    try:
        return PosConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
