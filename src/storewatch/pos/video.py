"""The exception rules that join a transaction with what the till's camera saw (``TillView``): pure functions of
(transaction, view, till mapping, settings). Each judges only a window the recording covers (frames on both sides,
see ``tills``) and only with the zones the till mapping names; otherwise it returns None (no finding, no guess).
Every finding carries the camera and time window of the video that shows it.

* ``refund_no_customer``: a refund with nobody on the customer side of the till around it.
* ``scan_gap``: a stretch of a transaction with no item entered for ``gap_s`` while something was going on in the
  scanner area (needs line times, which POSLog 6.0 and the JSON/CSV forms can carry; NCR ACS 2.1 logs have none).
* ``cashier_absent_drawer_open``: the drawer opened (a no-sale, or a cash tender) with nobody in the cashier zone.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from storewatch.pos.config import (
    CashierAbsentConfig,
    PosConfig,
    RefundNoCustomerConfig,
    ScanGapConfig,
    TillMapping,
)
from storewatch.pos.exceptions import ClipWindow, ExceptionCode, PosException, for_transaction, transaction_window
from storewatch.pos.model import LineKind, Transaction, TransactionStatus, TransactionType
from storewatch.pos.tills import TillView


def _clip(till: TillMapping, start: datetime, end: datetime) -> ClipWindow:
    return ClipWindow(camera=till.camera, start_utc=start, end_utc=end)


def refund_no_customer(
    tx: Transaction, view: TillView, till: TillMapping, cfg: RefundNoCustomerConfig, config: PosConfig
) -> PosException | None:
    if till.customer_zone is None or tx.status is not TransactionStatus.COMPLETED:
        return None
    if tx.type not in (TransactionType.RETURN, TransactionType.EXCHANGE):
        return None
    start, end = transaction_window(tx, config.clip)
    a, b = start - timedelta(seconds=cfg.before_s), end + timedelta(seconds=cfg.after_s)
    if not view.covers(a, b):
        return None
    seen = view.presence_s(till.customer_zone, a, b, max_frame_s=config.frame_gap_s)
    if seen >= cfg.min_presence_s:
        return None
    window = (b - a).total_seconds()
    return for_transaction(
        ExceptionCode.REFUND_NO_CUSTOMER,
        tx,
        f"refund with nobody on the customer side: seen {seen:.1f} s of {window:.0f} s "
        f"(needs {cfg.min_presence_s:.1f} s)",
        {"customer_present_s": round(seen, 2), "window_s": round(window, 1), "zone": till.customer_zone},
        clip=_clip(till, a, b),
    )


def scan_gap(
    tx: Transaction, view: TillView, till: TillMapping, cfg: ScanGapConfig, config: PosConfig
) -> PosException | None:
    if till.scanner_zone is None or not tx.is_retail:
        return None
    items = (LineKind.SALE, LineKind.RETURN, LineKind.VOID)
    times = sorted(ln.at_utc for ln in tx.lines if ln.kind in items and ln.at_utc is not None)
    if not times:
        return None
    marks = ([tx.start_utc] if tx.start_utc is not None and tx.start_utc < times[0] else []) + times
    worst: tuple[float, float, datetime, datetime] | None = None  # activity, gap, from, to
    for a, b in itertools.pairwise(marks):
        gap = (b - a).total_seconds()
        if gap < cfg.gap_s or not view.covers(a, b):
            continue
        active = view.presence_s(till.scanner_zone, a, b, max_frame_s=config.frame_gap_s, persons_only=False)
        if active >= cfg.min_activity_s and (worst is None or active > worst[0]):
            worst = (active, gap, a, b)
    if worst is None:
        return None
    active, gap, a, b = worst
    return for_transaction(
        ExceptionCode.SCAN_GAP,
        tx,
        f"{gap:.0f} s without a scan while the scanner area was busy for {active:.1f} s",
        {"gap_s": round(gap, 1), "activity_s": round(active, 2), "gap_start": a.isoformat(), "zone": till.scanner_zone},
        at_utc=a,
        clip=_clip(till, a - timedelta(seconds=config.clip.before_s), b + timedelta(seconds=config.clip.after_s)),
    )


def drawer_opened_at(tx: Transaction, cfg: CashierAbsentConfig) -> datetime | None:
    """When the transaction opened the cash drawer: a no-sale, or the end of a cash-tendered sale or refund."""
    if tx.type is TransactionType.NO_SALE:
        return tx.end_utc
    if cfg.on_cash_tender and tx.is_retail and any(t.kind == "cash" for t in tx.tenders):
        return tx.end_utc
    return None


def cashier_absent_drawer_open(
    tx: Transaction, view: TillView, till: TillMapping, cfg: CashierAbsentConfig, config: PosConfig
) -> PosException | None:
    opened = drawer_opened_at(tx, cfg)
    if till.cashier_zone is None or opened is None:
        return None
    a, b = opened - timedelta(seconds=cfg.before_s), opened + timedelta(seconds=cfg.open_s)
    if not view.covers(a, b):
        return None
    seen = view.presence_s(till.cashier_zone, a, b, max_frame_s=config.frame_gap_s)
    if seen >= cfg.min_presence_s:
        return None
    return for_transaction(
        ExceptionCode.CASHIER_ABSENT_DRAWER_OPEN,
        tx,
        f"drawer opened with nobody at the till: cashier seen {seen:.1f} s of {(b - a).total_seconds():.0f} s",
        {"cashier_present_s": round(seen, 2), "window_s": round((b - a).total_seconds(), 1), "zone": till.cashier_zone},
        at_utc=opened,
        clip=_clip(till, a - timedelta(seconds=config.clip.before_s), b + timedelta(seconds=config.clip.after_s)),
    )


class VideoRules:
    """The enabled video-joined rules for mapped registers: ``window(tx)`` is the span of video they need,
    ``check(tx, view)`` what fired."""

    def __init__(self, config: PosConfig) -> None:
        self.config = config

    def window(self, tx: Transaction) -> tuple[datetime, datetime]:
        r = self.config.rules
        start, end = transaction_window(tx, self.config.clip)
        before = max(r.refund_no_customer.before_s, r.cashier_absent_drawer_open.before_s)
        after = max(r.refund_no_customer.after_s, r.cashier_absent_drawer_open.open_s)
        return start - timedelta(seconds=before), end + timedelta(seconds=after)

    def check(self, tx: Transaction, view: TillView) -> list[PosException]:
        till = self.config.till(tx.store, tx.register)
        if till is None:
            return []
        r = self.config.rules
        found = [
            refund_no_customer(tx, view, till, r.refund_no_customer, self.config)
            if r.refund_no_customer.enabled
            else None,
            scan_gap(tx, view, till, r.scan_gap, self.config) if r.scan_gap.enabled else None,
            cashier_absent_drawer_open(tx, view, till, r.cashier_absent_drawer_open, self.config)
            if r.cashier_absent_drawer_open.enabled
            else None,
        ]
        return [e for e in found if e is not None]
