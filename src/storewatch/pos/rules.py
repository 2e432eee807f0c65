"""The transaction-only exception rules: each a small function of one transaction and its settings, returning an
exception or None; ``TransactionRules`` runs the enabled ones. The period rules (a cashier against their peers)
are in ``peers``; the rules that need the till's video are in ``video``.

>>> from datetime import UTC, datetime
>>> from storewatch.pos.model import Transaction, TransactionType
>>> tx = Transaction(store="9", register="5", sequence=65, type=TransactionType.NO_SALE, operator="759",
...                  end_utc=datetime(2017, 10, 1, 15, 19, 11, tzinfo=UTC))
>>> [e.code.value for e in TransactionRules(PosConfig()).check(tx)]
['no_sale']
"""

from __future__ import annotations

from collections.abc import Callable

from storewatch.pos.config import (
    HighDiscountConfig,
    PosConfig,
    PriceOverrideConfig,
    RefundWithoutReceiptConfig,
    RuleSwitch,
    VoidLineConfig,
)
from storewatch.pos.exceptions import ExceptionCode, PosException, Value, for_transaction, money
from storewatch.pos.model import LineKind, LinkReason, Transaction, TransactionStatus, TransactionType


def void_line(tx: Transaction, cfg: VoidLineConfig) -> PosException | None:
    voids = tx.void_lines
    amount = -sum(ln.amount_minor for ln in voids)
    if not voids or abs(amount) < cfg.min_amount_minor:
        return None
    numbers = ",".join(str(ln.number) for ln in voids)
    values: dict[str, Value] = {"void_lines": len(voids), "voided_minor": amount, "lines": numbers}
    return for_transaction(
        ExceptionCode.VOID_LINE,
        tx,
        f"{len(voids)} line(s) voided ({money(amount, tx.currency)}) by operator {tx.operator}",
        values,
        at_utc=next((ln.at_utc for ln in voids if ln.at_utc), None),
    )


def post_void(tx: Transaction, cfg: RuleSwitch) -> PosException | None:
    tendered = sum(t.amount_minor for t in tx.tenders)
    if tx.status is TransactionStatus.POST_VOIDED and (tx.tenders or tx.total_minor):
        total = tx.total_minor if tx.total_minor is not None else tendered
        return for_transaction(
            ExceptionCode.POST_VOID,
            tx,
            f"transaction of {money(total, tx.currency)} voided after it was tendered",
            {"total_minor": total, "tendered_minor": tendered},
        )
    if tx.link is not None and tx.link.reason is LinkReason.POST_VOID:
        ref = tx.link.ref
        day = ref.business_day or tx.day  # a post-void naming no day voids one of its own day
        return for_transaction(
            ExceptionCode.POST_VOID,
            tx,
            f"post-void of transaction {ref.store}/{ref.register or '?'}/{day}/{ref.sequence}",
            {"voided_sequence": ref.sequence, "voided_register": ref.register or "", "voided_business_day": str(day)},
        )
    return None


def no_sale(tx: Transaction, cfg: RuleSwitch) -> PosException | None:
    if tx.type is not TransactionType.NO_SALE:
        return None
    return for_transaction(
        ExceptionCode.NO_SALE,
        tx,
        f"drawer opened without a sale by operator {tx.operator}",
        {"reason": tx.reason or ""},
    )


def refund_without_receipt(tx: Transaction, cfg: RefundWithoutReceiptConfig) -> PosException | None:
    if tx.status is not TransactionStatus.COMPLETED or not any(ln.kind is LineKind.RETURN for ln in tx.lines):
        return None
    linked = tx.link is not None and tx.link.reason is LinkReason.RETURN
    reversed_ = {ln.voids_line for ln in tx.void_lines}
    bare = [ln for ln in tx.return_lines if ln.original is None and not linked and ln.number not in reversed_]
    amount = -sum(ln.amount_minor for ln in bare)
    if not bare or amount < cfg.min_amount_minor:
        return None
    return for_transaction(
        ExceptionCode.REFUND_WITHOUT_RECEIPT,
        tx,
        f"{len(bare)} item(s) refunded ({money(amount, tx.currency)}) without a receipt (no original transaction)",
        {"return_lines": len(bare), "refunded_minor": amount},
    )


def manual_price_override(tx: Transaction, cfg: PriceOverrideConfig) -> PosException | None:
    if not any(ln.price_override for ln in tx.lines):
        return None
    reversed_ = {ln.voids_line for ln in tx.void_lines}
    worst: tuple[float, int, int, int] | None = None  # reduction %, line, regular, new
    count = 0
    for ln in tx.lines:
        if not ln.price_override or ln.kind is not LineKind.SALE or ln.number in reversed_:
            continue
        regular, new = ln.regular_price_minor, ln.unit_price_minor
        pct = 100.0 if regular is None or new is None or regular <= 0 else 100.0 * (regular - new) / regular
        if pct < 0 and not cfg.include_increases:
            continue
        if abs(pct) < cfg.min_reduction_pct:
            continue
        count += 1
        if worst is None or abs(pct) > abs(worst[0]):
            worst = (pct, ln.number, regular or 0, new or 0)
    if worst is None:
        return None
    pct, number, regular, new = worst
    return for_transaction(
        ExceptionCode.MANUAL_PRICE_OVERRIDE,
        tx,
        f"price typed over on {count} line(s): line {number} {money(regular, tx.currency)} -> "
        f"{money(new, tx.currency)} ({pct:.0f}% off)",
        {"lines": count, "line": number, "regular_minor": regular, "new_minor": new, "reduction_pct": round(pct, 1)},
    )


def high_discount(tx: Transaction, cfg: HighDiscountConfig) -> PosException | None:
    if not tx.is_retail:
        return None
    goods = discount = 0
    for ln in tx.lines:
        kind = ln.kind
        if kind is LineKind.SALE:
            goods += ln.amount_minor + ln.discount_minor  # a sale line's amount is after its own discount
            if ln.discount_minor and (cfg.include_automatic or not ln.automatic):
                discount += ln.discount_minor
        elif kind is LineKind.VOID:
            goods += ln.amount_minor
        elif kind is LineKind.DISCOUNT and (cfg.include_automatic or not ln.automatic):
            discount -= ln.amount_minor
    if goods <= 0 or discount <= 0:
        return None
    pct = 100.0 * discount / goods
    if pct < cfg.min_discount_pct or discount < cfg.min_discount_minor:
        return None
    return for_transaction(
        ExceptionCode.HIGH_DISCOUNT,
        tx,
        f"discount of {money(discount, tx.currency)} on goods of {money(goods, tx.currency)} ({pct:.0f}%)",
        {"discount_minor": discount, "goods_minor": goods, "discount_pct": round(pct, 1)},
    )


_Rule = Callable[[Transaction, PosConfig], PosException | None]

RULES: dict[ExceptionCode, _Rule] = {
    ExceptionCode.VOID_LINE: lambda tx, c: void_line(tx, c.rules.void_line),
    ExceptionCode.POST_VOID: lambda tx, c: post_void(tx, c.rules.post_void),
    ExceptionCode.NO_SALE: lambda tx, c: no_sale(tx, c.rules.no_sale),
    ExceptionCode.REFUND_WITHOUT_RECEIPT: lambda tx, c: refund_without_receipt(tx, c.rules.refund_without_receipt),
    ExceptionCode.MANUAL_PRICE_OVERRIDE: lambda tx, c: manual_price_override(tx, c.rules.manual_price_override),
    ExceptionCode.HIGH_DISCOUNT: lambda tx, c: high_discount(tx, c.rules.high_discount),
}


class TransactionRules:
    """The enabled transaction-only rules; ``check(tx)`` returns what fired, each with its till clip when the
    register is mapped to a camera."""

    def __init__(self, config: PosConfig) -> None:
        self.config = config
        switches = config.rules
        self._rules = [rule for code, rule in RULES.items() if getattr(switches, code.value).enabled]

    def check(self, tx: Transaction) -> list[PosException]:
        from storewatch.pos.exceptions import clip_for

        found = [e for rule in self._rules if (e := rule(tx, self.config)) is not None]
        if not found:
            return found
        clip = clip_for(tx, self.config.till(tx.store, tx.register), self.config.clip)
        return [e.model_copy(update={"clip": clip}) if clip and e.clip is None else e for e in found]
