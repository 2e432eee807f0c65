"""The body of an ARTS POSLog ``RetailTransaction``: line items (sale, return, void, discount), tenders, tax, totals,
links to other transactions, and the NCR ACS vendor extensions that matter (``acs:`` loyalty rewards that are
money, supervisor overrides, performance timings).

Elements are matched by local name under any ARTS namespace (2.x ``.../IXRetail/namespace/`` and 6.0
``.../IXRetail/v6.0.0/poslog``); vendor elements by their namespace. Unknown elements are ignored (POSLog is
extensible: loyalty memberships, CRM variables, signatures and the like carry nothing the rules use).

Voids come in two styles and both become a ``void`` line:

* NCR ACS writes the void as its own line (``VoidFlag="true"``) with negative quantity and amount that reverses
  an earlier sale line (which stays in the log): one ``void`` line, linked to the line it reverses by item id.
* The ARTS standard marks the voided line itself (``VoidFlag="true"``, positive amount): a ``sale`` line and a
  ``void`` line reversing it, so the lines still add up to the total.

The line items are the hot loop of a POSLog file (a dozen a transaction, 100,000 transactions a benchmark): each is
read in one pass over its children, its amounts through ``minor_units`` (remembered by text: prices repeat), the
paths that name a wrong element are made only when one is wrong, and the line is validated from one dict with the
fields at their defaults left out.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache

from storewatch.pos.model import (
    LineItem,
    LineKind,
    LinkReason,
    Tender,
    TransactionLink,
    TransactionRef,
    TransactionStatus,
)
from storewatch.pos.records import RecordError, minor_units, to_float, to_int, to_minor

ACS = "http://www.ncr.com/rsd/acs/tlog/markup/poslog/2.1"
ARTS2 = "http://www.nrf-arts.org/IXRetail/namespace/"
ARTS6 = "http://www.nrf-arts.org/IXRetail/v6.0.0/poslog"
_OTHER = {
    f"{{{ARTS2}}}": (f"{{{ACS}}}",),
    f"{{{ARTS6}}}": (f"{{{ACS}}}",),
    f"{{{ACS}}}": (f"{{{ARTS2}}}", f"{{{ARTS6}}}"),
}
"""Namespaces to look in besides the element's own."""


def local(tag: str) -> str:
    return tag[tag.rfind("}") + 1 :]


def ns(tag: str) -> str:
    return tag[1 : tag.rfind("}")] if tag.startswith("{") else ""


def kids(el: ET.Element, path: str) -> Iterator[tuple[str, ET.Element, str]]:
    """(local name, element, its path) of each child; repeated names get an index (``LineItem[4]``)."""
    seen: dict[str, int] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = local(child.tag)
        seen[name] = seen.get(name, 0) + 1
        yield name, child, f"{path}/{name}[{seen[name]}]" if seen[name] > 1 or name == "LineItem" else f"{path}/{name}"


def child(el: ET.Element, name: str) -> ET.Element | None:
    """The first child named ``name`` in the element's own namespace or the vendor's (``acs:``); under a vendor
    element, in an ARTS namespace."""
    tag = el.tag
    prefix = tag[: tag.rfind("}") + 1]
    found = el.find(prefix + name)
    if found is not None:
        return found
    for other in _OTHER.get(prefix, ()):
        found = el.find(other + name)
        if found is not None:
            return found
    return None


def text_of(el: ET.Element, name: str) -> str | None:
    c = child(el, name)
    if c is None or c.text is None:
        return None
    t = c.text.strip()
    return t or None


def attr(el: ET.Element, name: str) -> str | None:
    """An attribute, plain or in the vendor's namespace (``acs:weightItem``)."""
    value = el.get(name)
    if value is None and len(el.attrib) > 0:
        value = el.get(f"{{{ACS}}}{name}")
    return value


def texts(el: ET.Element, keep: frozenset[str] = frozenset()) -> dict[str, str]:
    """The stripped, non-empty text of each child by local name (the first of a name wins): one pass instead of a
    look-up per field. Children named in ``keep`` are listed under ``"\0" + name + index`` instead (as a path)."""
    out: dict[str, str] = {}
    for i, c in enumerate(el):
        tag, text = c.tag, c.text
        if not isinstance(tag, str):
            continue
        name = tag[tag.rfind("}") + 1 :]
        if name in keep:
            out[f"\0{name}[{i + 1}]"] = name
            continue
        if text is None or name in out:
            continue
        text = text.strip()
        if text:
            out[name] = text
    return out


def flag(el: ET.Element, name: str) -> bool:
    value = attr(el, name)
    return value is not None and value.strip().lower() in ("true", "1")


def code(value: str | None) -> str | None:
    """A vendor-qualified code without its prefix, lower-case: ``acs:Auto`` -> ``auto``."""
    return None if value is None else value.rsplit(":", 1)[-1].strip().lower() or None


def parse_time(value: str | None, path: str, default_tz: tzinfo) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(path, f"{value.strip()!r} is not an ISO 8601 date and time") from None
    return t.replace(tzinfo=default_tz) if t.utcoffset() is None else t


@dataclass
class RetailBody:
    lines: list[LineItem] = field(default_factory=list)
    tenders: list[Tender] = field(default_factory=list)
    tax_minor: int = 0
    total_minor: int | None = None
    link: TransactionLink | None = None
    status: TransactionStatus = TransactionStatus.COMPLETED
    supervisor_override: bool = False
    duration_s: float | None = None
    """Ring plus tender time (NCR performance metrics), to estimate when it began."""


_STATUS = {
    "postvoided": TransactionStatus.POST_VOIDED,
    "postvoid": TransactionStatus.POST_VOIDED,
    "voided": TransactionStatus.CANCELLED,
    "cancelled": TransactionStatus.CANCELLED,
    "canceled": TransactionStatus.CANCELLED,
    "suspended": TransactionStatus.SUSPENDED,
}
_LINK = {
    "return": LinkReason.RETURN,
    "refund": LinkReason.RETURN,
    "postvoid": LinkReason.POST_VOID,
    "void": LinkReason.POST_VOID,
    "resume": LinkReason.RESUME,
    "suspend": LinkReason.RESUME,
}


def parse_retail(rt: ET.Element, path: str, exp: int, tz: tzinfo) -> RetailBody:
    body = RetailBody()
    body.status = _STATUS.get((code(attr(rt, "TransactionStatus")) or "").replace("-", ""), TransactionStatus.COMPLETED)
    seen: dict[str, int] = {}
    for el in rt:  # ``kids`` written out: a dozen line items a transaction, their paths made only where needed
        tag = el.tag
        name = _LOCAL.get(tag)
        if name is None:
            if not isinstance(tag, str):
                continue
            name = _local_of(tag)
        n = seen[name] = seen.get(name, 0) + 1
        if name == "LineItem":
            _line_item(el, f"{path}/LineItem[{n}]", exp, tz, body)
        elif name == "Total" and attr(el, "TotalType") == "TransactionGrandAmount":
            body.total_minor = to_minor(el.text, _path(path, name, n), exponent=exp)
        elif name == "TransactionLink":
            body.link = transaction_link(el, _path(path, name, n))
        elif name == "ManagerApproval" and (el.text or "").strip().lower() == "true":
            body.supervisor_override = True
        elif name == "PerformanceMetrics" and ns(el.tag) == ACS:
            p = _path(path, name, n)
            ring, tender = text_of(el, "RingTime"), text_of(el, "TenderTime")
            body.duration_s = (to_float(ring, f"{p}/RingTime") if ring else 0.0) + (
                to_float(tender, f"{p}/TenderTime") if tender else 0.0
            )
    return body


def _path(parent: str, name: str, n: int) -> str:
    """A child's path as ``kids`` names it."""
    return f"{parent}/{name}[{n}]" if n > 1 or name == "LineItem" else f"{parent}/{name}"


def transaction_link(el: ET.Element, path: str) -> TransactionLink:
    store = text_of(el, "RetailStoreID")
    if store is None:
        unit = child(el, "BusinessUnit")
        store = text_of(unit, "UnitID") if unit is not None else None
    if store is None:
        raise RecordError(path, "the link names no store (RetailStoreID or BusinessUnit/UnitID)")
    sequence = to_int(text_of(el, "SequenceNumber"), f"{path}/SequenceNumber")
    day = text_of(el, "BusinessDayDate")
    try:
        ref = TransactionRef(store=store, register=text_of(el, "WorkstationID"), sequence=sequence, business_day=day)
    except ValueError as exc:
        raise RecordError(path, _first_error(exc)) from None
    reason = _LINK.get((code(attr(el, "ReasonCode")) or "").replace("-", ""), LinkReason.OTHER)
    return TransactionLink(reason=reason, ref=ref)


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(x) for x in first['loc'])}: {first['msg']}"
    return str(exc)


def _line_item(li: ET.Element, path: str, exp: int, tz: tzinfo, body: RetailBody) -> None:
    """One ``LineItem``: its parts in one pass over the children (the hot loop of a POSLog file: a transaction
    has a dozen of these)."""
    attrib = li.attrib
    if attrib:
        voided = _truthy(attrib.get("VoidFlag") if "VoidFlag" in attrib else attrib.get(_ACS_PREFIX + "VoidFlag"))
        method = attrib.get("EntryMethod") if "EntryMethod" in attrib else attrib.get(_ACS_PREFIX + "EntryMethod")
        entry = None if method is None else _code(method)
    else:
        voided, entry = False, None
    at = None
    number_text: str | None = None
    parts = []
    for el in li:
        tag = el.tag
        name = _LOCAL.get(tag)
        if name is None:
            if not isinstance(tag, str):
                continue
            name = _local_of(tag)
        if name == "SequenceNumber":
            if number_text is None:
                number_text = el.text
        elif name in _LINE_PARTS:
            parts.append((name, el, tag.startswith(_ACS_PREFIX)))
        elif name in _TIMES:
            at = at or parse_time(el.text, f"{path}/{name}", tz)
    try:
        number = int(number_text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = to_int(number_text, f"{path}/SequenceNumber")  # says what is wrong
    for name, el, vendor in parts:
        if name in ("Sale", "Return") and not vendor:
            _item(el, f"{path}/{name}", name, number, voided, entry, at, exp, body)
        elif voided:
            continue
        elif name == "Tender":
            body.tenders.append(_tender(el, f"{path}/{name}", exp))
        elif name == "Tax":
            body.tax_minor += to_minor(text_of(el, "Amount"), f"{path}/Tax/Amount", exponent=exp)
        elif name == "Discount":
            body.lines.append(_discount(el, f"{path}/{name}", number, entry, at, exp))
        elif name == "LoyaltyReward":
            reward = _acs_reward(el, f"{path}/{'acs:' if vendor else ''}{name}", number, entry, at, exp)
            if reward is not None:
                body.lines.append(reward)
        elif name == "SupervisorOverride" and vendor:
            body.supervisor_override = True


_TIMES = frozenset(("DateTime", "BeginDateTime", "EndDateTime"))


@lru_cache(maxsize=4096)
def _code(value: str) -> str | None:
    """``code`` of a text, remembered (a log repeats a handful of entry methods and type codes)."""
    return code(value)


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("true", "1")


_LOCAL: dict[str, str] = {}
"""Tag -> local name, for the tags seen (bounded: a file with many odd tags stops filling it)."""


def _local_of(tag: str) -> str:
    name = tag[tag.rfind("}") + 1 :]
    if len(_LOCAL) < 4096:
        _LOCAL[tag] = name
    return name


_LINE_PARTS = frozenset(("Sale", "Return", "Tender", "Tax", "Discount", "LoyaltyReward", "SupervisorOverride"))
_ACS_PREFIX = f"{{{ACS}}}"


def _item(
    el: ET.Element,
    path: str,
    name: str,
    number: int,
    voided: bool,
    entry: str | None,
    at: datetime | None,
    exp: int,
    body: RetailBody,
) -> None:
    kind = LineKind.SALE if name == "Sale" else LineKind.RETURN
    f, mods = _item_texts(el)
    get = f.get
    item_id = get("ItemID")
    if item_id is None:
        ident = child(el, "POSIdentity")
        item_id = text_of(ident, "POSItemID") if ident is not None else None
    amount = _money(get("ExtendedAmount"), path, "ExtendedAmount", exp)
    qty_text = get("Quantity")
    quantity = _number(qty_text, path, "Quantity") if qty_text else 1.0
    text = get("RegularSalesUnitPrice")
    regular = None if text is None else _money(text, path, "RegularSalesUnitPrice", exp)
    text = get("ActualSalesUnitPrice")
    actual = None if text is None else _money(text, path, "ActualSalesUnitPrice", exp)
    discount = 0
    if "DiscountAmount" in f or "ExtendedDiscountAmount" in f:
        discount = max(
            abs(_price(f, "DiscountAmount", path, exp) or 0), abs(_price(f, "ExtendedDiscountAmount", path, exp) or 0)
        )
    override, previous, reason, original = False, None, get("Reason") or get("ReasonCode"), None
    for sub, mod, p in _modifiers(el, mods, path) if mods else ():
        if sub == "RetailPriceModifier" and not flag(mod, "VoidFlag"):
            if (code(attr(mod, "MethodCode")) or "") == "priceoverride":
                override = True
                previous = _price(texts(mod), "PreviousPrice", p, exp)
                reason = text_of(mod, "ReasonCode") or reason
            else:
                discount += abs(to_minor(text_of(mod, "Amount") or "0", f"{p}/Amount", exponent=exp))
        elif sub == "TransactionLink":
            original = transaction_link(mod, p).ref
    effect = amount if kind is LineKind.SALE else -abs(amount)
    description = get("Description")
    unit = actual if actual is not None else regular
    listed = previous if previous is not None else regular
    description = description[:200] if description else ""
    try:
        if voided and kind is LineKind.SALE and effect < 0:  # NCR style: the void reverses an earlier line
            reverses = _reversed_line(body.lines, item_id, -effect)
            body.lines.append(
                LineItem(kind=LineKind.VOID, quantity=quantity, amount_minor=effect, voids_line=reverses, number=number,
                         item_id=item_id, description=description, unit_price_minor=unit, regular_price_minor=listed,
                         entry_method=entry, at_utc=at)
            )  # fmt: skip
            return
        line = {
            "number": number, "kind": kind, "item_id": item_id, "description": description, "quantity": quantity,
            "amount_minor": effect, "unit_price_minor": unit, "regular_price_minor": listed, "entry_method": entry,
        }  # fmt: skip
        if at is not None:  # the fields at their defaults are left out: the same line, checked a little sooner
            line["at_utc"] = at
        if discount:
            line["discount_minor"] = discount
        if override:
            line["price_override"] = override
        if reason is not None:
            line["reason"] = reason
        if original is not None:
            line["original"] = original
        body.lines.append(_validate_line(line))
        if voided:
            body.lines.append(
                LineItem(kind=LineKind.VOID, quantity=-quantity, amount_minor=-effect, voids_line=number, number=number,
                         item_id=item_id, description=description, unit_price_minor=unit, regular_price_minor=listed,
                         entry_method=entry, at_utc=at)
            )  # fmt: skip
    except ValueError as exc:
        raise RecordError(path, _first_error(exc)) from None


_validate_line = LineItem.__pydantic_validator__.validate_python
"""``LineItem.model_validate`` without its Python wrapper (a dozen lines a transaction)."""


def _money(text: str | None, path: str, name: str, exp: int) -> int:
    """``to_minor`` of a child's text, its path made only when the text is wrong."""
    if text is not None:
        minor = minor_units(text, exp)
        if minor.__class__ is int:
            return minor
    return to_minor(text, f"{path}/{name}", exponent=exp)


def _number(text: str, path: str, name: str) -> float:
    """``to_float`` of a child's text, its path made only when the text is wrong."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if value - value == 0.0:  # finite
        return value
    return to_float(text, f"{path}/{name}")


def _item_texts(el: ET.Element) -> tuple[dict[str, str], list[tuple[str, int]]]:
    """``texts`` of a sale or return line, and its price modifiers and transaction links (name, 1-based index)."""
    out: dict[str, str] = {}
    mods: list[tuple[str, int]] = []
    for i, c in enumerate(el, 1):
        tag = c.tag
        name = _LOCAL.get(tag)
        if name is None:
            if not isinstance(tag, str):
                continue
            name = _local_of(tag)
        if name in _ITEM_PARTS:
            mods.append((name, i))
            continue
        text = c.text
        if text is None or name in out:
            continue
        text = text.strip()
        if text:
            out[name] = text
    return out, mods


_ITEM_PARTS = frozenset(("RetailPriceModifier", "TransactionLink"))


def _modifiers(el: ET.Element, mods: list[tuple[str, int]], path: str) -> list[tuple[str, ET.Element, str]]:
    """The price modifiers and transaction links of a sale or return line, with their paths."""
    return [(name, el[index - 1], f"{path}/{name}[{index}]") for name, index in mods]


def _reversed_line(lines: list[LineItem], item_id: str | None, amount: int) -> int | None:
    """The latest sale line of the same item (the same amount first) that no void reverses yet."""
    taken = {ln.voids_line for ln in lines if ln.kind is LineKind.VOID}
    same = [ln for ln in lines if ln.kind is LineKind.SALE and ln.item_id == item_id and ln.number not in taken]
    exact = [ln for ln in same if ln.amount_minor == amount]
    pick = (exact or same)[-1:] if same else []
    return pick[0].number if pick else None


def _price(fields: dict[str, str], name: str, path: str, exp: int) -> int | None:
    t = fields.get(name)
    return None if t is None else to_minor(t, f"{path}/{name}", exponent=exp)


def _tender(el: ET.Element, path: str, exp: int) -> Tender:
    amount = to_minor(text_of(el, "Amount"), f"{path}/Amount", exponent=exp)
    if (code(attr(el, "TypeCode")) or "") == "refund":
        amount = -abs(amount)
    change_el = child(el, "TenderChange")
    change = 0
    if change_el is not None:
        change = abs(to_minor(text_of(change_el, "Amount"), f"{path}/TenderChange/Amount", exponent=exp))
    card = child(el, "CreditDebit")
    kind = code(attr(el, "TenderType")) or "other"
    try:
        return Tender(
            kind=kind,
            amount_minor=amount,
            change_minor=change,
            card_type=code(attr(card, "CardType")) if card is not None else None,
        )
    except ValueError as exc:
        raise RecordError(path, _first_error(exc)) from None


def _discount(el: ET.Element, path: str, number: int, entry: str | None, at: datetime | None, exp: int) -> LineItem:
    amount_text, percent_text = text_of(el, "Amount"), text_of(el, "Percent")
    if amount_text is None:
        raise RecordError(f"{path}/Amount", "a discount needs its Amount")
    percent = to_float(percent_text, f"{path}/Percent") if percent_text else None
    try:
        return LineItem(
            number=number,
            kind=LineKind.DISCOUNT,
            entry_method=entry,
            at_utc=at,
            amount_minor=-abs(to_minor(amount_text, f"{path}/Amount", exponent=exp)),
            percent=percent,
            reason=text_of(el, "ReasonCode"),
            description=attr(el, "TypeCode") or "",
        )
    except ValueError as exc:
        raise RecordError(path, _first_error(exc)) from None


def _acs_reward(
    el: ET.Element, path: str, number: int, entry: str | None, at: datetime | None, exp: int
) -> LineItem | None:
    """An NCR ACS loyalty reward that is money off (``acs:RewardCategory`` Monetary) becomes a discount line.
    Only the ``acs:detailedData`` copy counts: ACS repeats each reward as a summary (``acs:summarizedActivity``)."""
    if text_of(el, "RewardCategory") != "Monetary" or not flag(el, "detailedData"):
        return None
    amount = to_minor(text_of(el, "ExtendedRewardAmount"), f"{path}/acs:ExtendedRewardAmount", exponent=exp)
    return LineItem(
        number=number,
        kind=LineKind.DISCOUNT,
        amount_minor=-abs(amount),
        entry_method=entry or "auto",
        at_utc=at,
        reason=text_of(el, "PromotionID"),
        description=text_of(el, "RewardType") or "",
    )
