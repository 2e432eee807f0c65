"""The transaction-only exception rules and the peer rules: each fires on its case and stays quiet on the near
miss; settings are strict; a mapped register gets the till clip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from storewatch.pos.config import PeerRateConfig, PosConfig
from storewatch.pos.exceptions import ExceptionCode
from storewatch.pos.model import (
    LineItem,
    LineKind,
    LinkReason,
    Tender,
    TransactionLink,
    TransactionRef,
    TransactionStatus,
    TransactionType,
)
from storewatch.pos.peers import OperatorActivity, activity_of, excessive_refunds, excessive_voids
from storewatch.pos.rules import TransactionRules
from tests.pos.conftest import T0, make_tx, sale


def codes(tx: object, config: PosConfig | None = None) -> list[str]:
    return [e.code.value for e in TransactionRules(config or PosConfig()).check(tx)]  # type: ignore[arg-type]


def void(number: int, amount: int, voids: int | None = None) -> LineItem:
    return LineItem(number=number, kind=LineKind.VOID, amount_minor=-amount, voids_line=voids)


def ret(number: int, amount: int, original: TransactionRef | None = None) -> LineItem:
    return LineItem(number=number, kind=LineKind.RETURN, amount_minor=-amount, original=original)


def test_void_line_fires_with_the_count_and_amount_and_respects_its_minimum() -> None:
    tx = make_tx(lines=(sale(1, 500), sale(2, 1250), void(3, 1250, voids=2)))
    (e,) = TransactionRules(PosConfig()).check(tx)
    assert e.code is ExceptionCode.VOID_LINE and e.values == {"void_lines": 1, "voided_minor": 1250, "lines": "3"}
    assert e.id == "void_line:9/2/2026-03-02/1" and "12.50 USD" in e.explanation
    assert codes(make_tx(lines=(sale(1, 500), sale(2, 1250)))) == []
    cheap = PosConfig.model_validate({"rules": {"void_line": {"min_amount_minor": 1251}}})
    assert codes(tx, cheap) == []


def test_post_void_fires_after_tender_not_on_a_cancel_before_it() -> None:
    lines = (sale(1, 1495),)
    assert codes(make_tx(lines=lines, status=TransactionStatus.POST_VOIDED)) == ["post_void"]
    assert codes(make_tx(lines=lines, status=TransactionStatus.CANCELLED, tenders=())) == []
    assert codes(make_tx(lines=lines, status=TransactionStatus.POST_VOIDED, tenders=())) == []  # nothing tendered
    link = TransactionLink(reason=LinkReason.POST_VOID, ref=TransactionRef(store="9", register="2", sequence=41))
    (e,) = TransactionRules(PosConfig()).check(make_tx(type=TransactionType.CONTROL, link=link, tenders=()))
    assert e.code is ExceptionCode.POST_VOID and e.values["voided_sequence"] == 41


def test_no_sale() -> None:
    assert codes(make_tx(type=TransactionType.NO_SALE, tenders=(), reason="change")) == ["no_sale"]
    assert codes(make_tx(type=TransactionType.SIGN_ON, tenders=())) == []


def test_refund_without_receipt_fires_only_when_no_original_is_linked() -> None:
    receipt = TransactionRef(store="9", register="3", sequence=12)
    assert codes(make_tx(lines=(ret(1, 5999),))) == ["refund_without_receipt"]
    assert codes(make_tx(lines=(ret(1, 5999, receipt),))) == []
    linked = TransactionLink(reason=LinkReason.RETURN, ref=receipt)
    assert codes(make_tx(lines=(ret(1, 5999),), link=linked)) == []
    resumed = TransactionLink(reason=LinkReason.RESUME, ref=receipt)  # a link, but not to a receipt
    assert codes(make_tx(lines=(ret(1, 5999),), link=resumed)) == ["refund_without_receipt"]
    big_only = PosConfig.model_validate({"rules": {"refund_without_receipt": {"min_amount_minor": 6000}}})
    assert codes(make_tx(lines=(ret(1, 5999),)), big_only) == []


def test_manual_price_override_fires_on_a_cut_past_the_threshold() -> None:
    cut = sale(1, 1999, regular_price_minor=5999, price_override=True)
    (e,) = TransactionRules(PosConfig()).check(make_tx(lines=(cut,)))
    assert e.code is ExceptionCode.MANUAL_PRICE_OVERRIDE and e.values["reduction_pct"] == 66.7
    assert codes(make_tx(lines=(sale(1, 1999, regular_price_minor=5999),))) == []  # a lower price, not typed over
    strict = PosConfig.model_validate({"rules": {"manual_price_override": {"min_reduction_pct": 70}}})
    assert codes(make_tx(lines=(cut,)), strict) == []
    up = sale(1, 7000, regular_price_minor=5999, price_override=True)
    assert codes(make_tx(lines=(up,))) == []
    assert codes(make_tx(lines=(cut, void(2, 1999, voids=1)))) == ["void_line"]  # the overridden line was voided


def test_high_discount_counts_the_cashiers_discounts_not_automatic_promotions() -> None:
    goods = (sale(1, 6000), sale(2, 4000))
    manual = LineItem(number=3, kind=LineKind.DISCOUNT, amount_minor=-3500, entry_method="keyed")
    (e,) = TransactionRules(PosConfig()).check(make_tx(lines=(*goods, manual)))
    assert e.code is ExceptionCode.HIGH_DISCOUNT and e.values == {
        "discount_minor": 3500, "goods_minor": 10000, "discount_pct": 35.0,
    }  # fmt: skip
    near = LineItem(number=3, kind=LineKind.DISCOUNT, amount_minor=-2900, entry_method="keyed")
    assert codes(make_tx(lines=(*goods, near))) == []  # 29 %
    promo = LineItem(number=3, kind=LineKind.DISCOUNT, amount_minor=-3500, entry_method="auto")
    assert codes(make_tx(lines=(*goods, promo))) == []
    with_promos = PosConfig.model_validate({"rules": {"high_discount": {"include_automatic": True}}})
    assert codes(make_tx(lines=(*goods, promo)), with_promos) == ["high_discount"]
    small = (sale(1, 1000), LineItem(number=2, kind=LineKind.DISCOUNT, amount_minor=-400, entry_method="keyed"))
    assert codes(make_tx(lines=small)) == []  # 40 % but under the 5.00 minimum


def test_a_mapped_register_gets_the_till_clip() -> None:
    cfg = PosConfig.model_validate({"tills": [{"store": "9", "register": "2", "camera": "s9/till-2"}]})
    (e,) = TransactionRules(cfg).check(make_tx(type=TransactionType.NO_SALE, tenders=(), duration_s=20))
    assert e.clip is not None and e.clip.camera == "s9/till-2"
    assert (e.clip.start_utc, e.clip.end_utc) == (T0 - timedelta(seconds=30), T0 + timedelta(seconds=10))
    (e,) = TransactionRules(cfg).check(make_tx(register="3", type=TransactionType.NO_SALE, tenders=()))
    assert e.clip is None


def test_disabled_rules_stay_quiet() -> None:
    cfg = PosConfig.model_validate({"rules": {"no_sale": {"enabled": False}}})
    assert codes(make_tx(type=TransactionType.NO_SALE, tenders=()), cfg) == []


@pytest.mark.parametrize(
    ("data", "where"),
    [({"rules": {"no_sale": {"enabld": False}}}, "rules.no_sale.enabld"),
     ({"rules": {"high_discount": {"min_discount_pct": 0}}}, "rules.high_discount.min_discount_pct"),
     ({"tills": [{"store": "9", "register": "2", "camera": "till-2"}]}, "tills.0.camera"),
     ({"tills": [{"store": "9", "register": "2", "camera": "s/c"}, {"store": "9", "register": "2", "camera": "s/d"}]},
      "tills"),
     ({"timezone": "Mars/Base"}, "timezone")],
)  # fmt: skip
def test_config_is_strict(data: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError) as info:
        PosConfig.model_validate(data)
    assert ".".join(str(p) for p in info.value.errors()[0]["loc"]) == where


START, END = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)


def _day(voids: dict[str, int], refunds: dict[str, int] | None = None, n: int = 50) -> list[OperatorActivity]:
    refunds = refunds or {}
    return [OperatorActivity("9", op, n, voids.get(op, 0), refunds.get(op, 0)) for op in sorted(voids)]


def test_excessive_voids_fires_on_the_outlier_with_the_statistics() -> None:
    (e,) = excessive_voids(_day({"a": 1, "b": 2, "c": 1, "d": 2, "e": 12}), PeerRateConfig(), START, END)
    assert e.code is ExceptionCode.EXCESSIVE_VOIDS and e.operator == "e" and e.register is None
    assert e.values == {
        "events": 12, "transactions": 50, "rate": 0.24, "peer_median_rate": 0.03, "peer_mad": 0.01,
        "robust_z": 14.16, "ratio_to_median": 8.0, "peers": 4,
    }  # fmt: skip
    assert (e.period_start_utc, e.period_end_utc) == (START, END)
    assert e.id == "excessive_voids:9:e:20260302T000000-20260303T000000"


def test_excessive_voids_near_misses() -> None:
    cfg = PeerRateConfig()
    assert excessive_voids(_day({"a": 1, "b": 2, "c": 1, "d": 2, "e": 3}), cfg, START, END) == []  # within spread
    assert excessive_voids(_day({"a": 1, "b": 2, "e": 12}), cfg, START, END) == []  # two peers: no baseline
    assert excessive_voids(_day({"a": 1, "b": 2, "c": 1, "d": 2, "e": 12}, n=10), cfg, START, END) == []  # too few
    assert excessive_voids(_day({"a": 0, "b": 0, "c": 0, "d": 0, "e": 2}), cfg, START, END) == []  # 2 < 3 events
    same = excessive_voids(_day({"a": 1, "b": 1, "c": 1, "d": 1, "e": 3}), cfg, START, END)
    assert [(e.operator, e.values["robust_z"], e.values["ratio_to_median"]) for e in same] == [("e", 999.0, 3.0)]


def test_excessive_refunds_from_transactions() -> None:
    txs = []
    for i, op in enumerate("abcde" * 30):
        lines = (
            (sale(1, 100),) if op != "e" or i % 3 else (LineItem(number=1, kind=LineKind.RETURN, amount_minor=-100),)
        )
        txs.append(make_tx(sequence=i, lines=lines, operator=op, tenders=(Tender(kind="cash", amount_minor=100),)))
    txs.append(make_tx(sequence=999, lines=(sale(1, 100),), operator="a", status=TransactionStatus.CANCELLED))
    activity = activity_of(txs)
    assert [(a.operator, a.transactions, a.refunds) for a in activity] == [
        ("a", 30, 0), ("b", 30, 0), ("c", 30, 0), ("d", 30, 0), ("e", 30, 10),
    ]  # fmt: skip
    (e,) = excessive_refunds(activity, PeerRateConfig(), START, END)
    assert e.operator == "e" and e.values["events"] == 10 and e.values["peer_median_rate"] == 0.0
    assert excessive_voids(activity, PeerRateConfig(), START, END) == []
