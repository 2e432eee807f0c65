"""The POSLog parser gives exactly what it gave before it was made faster: every record (transaction or quarantined)
of the real NCR ACS export, the 6.0 sample, generated benchmark transactions and damaged variants of the samples
hashed and compared with ``data/poslog-same.json``, written by the parser as it was (commit 06d9a86).

A record's digest covers all of it: every field of a transaction (``model_dump_json``), or the source, record,
path, error and raw text of a quarantined one. Should a change of behaviour be wanted, rewrite the file with
``python -m tests.pos.test_poslog_same`` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storewatch.bench.pos import write_files
from storewatch.pos.poslog import parse_poslog
from storewatch.pos.records import Quarantined, RecordError, to_minor
from tests.pos.conftest import DATA, POSLOG

GOLDEN = DATA / "poslog-same.json"
CHICAGO = ZoneInfo("America/Chicago")
UTC = ZoneInfo("UTC")
SAMPLES = {
    "store9": (POSLOG / "ncr-acs-store9.xml", CHICAGO),
    "small": (POSLOG / "ncr-acs-small.xml", CHICAGO),
    "arts6": (DATA / "arts-poslog-6.0-sample.xml", UTC),
}
LONG = b"X" * 250
DAMAGED: dict[str, tuple[str, bytes, bytes]] = {
    # (sample, first occurrence of this, replaced by that): each reaches an error path or an unusual shape
    "amount-comma": ("small", b"<ExtendedAmount>1.26<", b"<ExtendedAmount>1,26<"),
    "amount-3-digits": ("small", b"<Amount>1.07</Amount>", b"<Amount>1.075</Amount>"),
    "amount-exponent": ("small", b"<ExtendedAmount>1.26<", b"<ExtendedAmount>1.26e1<"),
    "amount-blank": ("small", b"<ExtendedAmount>1.26<", b"<ExtendedAmount> <"),
    "quantity-word": ("small", b"<Quantity>0.42<", b"<Quantity>lots<"),
    "quantity-nan": ("small", b"<Quantity>0.42<", b"<Quantity>nan<"),
    "line-number": ("small", b"<SequenceNumber>1</SequenceNumber><Sale", b"<SequenceNumber>x</SequenceNumber><Sale"),
    "line-number-missing": ("small", b"<SequenceNumber>1</SequenceNumber><Sale", b"<Sale"),
    "end-time-bad": ("small", b"<EndDateTime>2017-10-01T02:02:54<", b"<EndDateTime>soon<"),
    "end-time-missing": ("small", b"<EndDateTime>2017-10-01T02:02:54</EndDateTime>", b""),
    "register-missing": ("small", b"<WorkstationID>34</WorkstationID><SequenceNumber>161", b"<SequenceNumber>161"),
    "store-missing": ("small", b"<RetailStoreID>9</RetailStoreID><WorkstationID>34</WorkstationID><SequenceNumber>161",
                      b"<WorkstationID>34</WorkstationID><SequenceNumber>161"),
    "store-bad-id": ("small", b"<RetailStoreID>9</RetailStoreID><WorkstationID>34</WorkstationID><SequenceNumber>161",
                     b"<RetailStoreID>9/x</RetailStoreID><WorkstationID>34</WorkstationID><SequenceNumber>161"),
    "sequence-word": ("small", b"<SequenceNumber>161<", b"<SequenceNumber>one<"),
    "operator-bad-id": ("small", b'"FL 34">94<', b'"FL 34">9 4<'),
    "business-day-bad": ("small", b"<BusinessDayDate>2017-09-30</BusinessDayDate><EndDateTime>2017-10-01T02:02",
                         b"<BusinessDayDate>2017-13-30</BusinessDayDate><EndDateTime>2017-10-01T02:02"),
    "currency-yen": ("small", b"<CurrencyCode>USD</CurrencyCode><RetailTransaction",
                     b"<CurrencyCode>JPY</CurrencyCode><RetailTransaction"),
    "currency-bad": ("small", b"<CurrencyCode>USD</CurrencyCode><RetailTransaction",
                     b"<CurrencyCode>US</CurrencyCode><RetailTransaction"),
    "voided-sale": ("small", b'<LineItem EntryMethod="Keyed" acs:weightItem="true">',
                    b'<LineItem EntryMethod="Keyed" VoidFlag="true" acs:weightItem="true">'),
    "voided-tender": ("small", b'<LineItem EntryMethod="MSR">', b'<LineItem EntryMethod="MSR" acs:VoidFlag="1">'),
    "description-long": ("small", b"<Description>APPLE HONEYCRISP ORG<", b"<Description>" + LONG + b"<"),
    "description-markup": ("small", b"<Description>APPLE HONEYCRISP ORG<",
                           b"<Description> APPLE &amp; PEAR <![CDATA[x<y]]> &#233; <"),
    "item-id-long": ("small", b"<ItemID>00000000067591<", b"<ItemID>" + LONG + b"<"),
    "item-id-missing": ("small", b"<ItemID>00000000067591</ItemID>", b""),
    "entry-method-long": ("small", b'EntryMethod="Keyed"', b'EntryMethod="' + LONG + b'"'),
    "tender-type-blank": ("small", b'TenderType="CreditDebit"', b'TenderType=""'),
    "tender-refund": ("small", b'TenderType="CreditDebit" TypeCode="Sale"', b'TenderType="Cash" TypeCode="Refund"'),
    "reward-amount-bad": ("small", b"<acs:ExtendedRewardAmount>-0.19<", b"<acs:ExtendedRewardAmount>abc<"),
    "comment-closing-tag": ("small", b"<CurrencyCode>USD</CurrencyCode><RetailTransaction",
                            b"<!-- </Transaction> --><CurrencyCode>USD</CurrencyCode><RetailTransaction"),
    "processing-instruction": ("small", b"<CurrencyCode>USD</CurrencyCode><RetailTransaction",
                               b"<?acs note?><CurrencyCode>USD</CurrencyCode><RetailTransaction"),
    "doctype-entity": ("small", b"<POSLog ", b'<!DOCTYPE POSLog [<!ENTITY shop "Store">]><POSLog '),
    "not-arts": ("small", b'xmlns="http://www.nrf-arts.org/IXRetail/namespace/"', b'xmlns="urn:other"'),
    "truncated": ("small", b"<LoyaltyReward acs:membershipRequired", b"<LoyaltyReward acs:membershipRequired=<"),
    "price-override-bad": ("arts6", b"<PreviousPrice>59.99<", b"<PreviousPrice>x<"),
    "price-markdown": ("arts6", b'MethodCode="PriceOverride"', b'MethodCode="Markdown"'),
    "modifier-voided": ("arts6", b'"PriceOverride" VoidFlag="false"', b'"PriceOverride" VoidFlag="true"'),
    "percent-over": ("arts6", b"<Percent>10<", b"<Percent>150<"),
    "discount-no-amount": ("arts6", b'<Amount Action="Subtract">2.90</Amount>', b""),
    "link-no-store": ("arts6", b'"Return">\n            <BusinessUnit><UnitID TypeCode="RetailStore">101</UnitID>'
                      b"</BusinessUnit>", b'"Return">'),
    "link-sequence-bad": ("arts6", b"<SequenceNumber>1002</SequenceNumber>\n            <BusinessDayDate>",
                          b"<SequenceNumber>-3</SequenceNumber>\n            <BusinessDayDate>"),
    "status-post-voided": ("arts6", b'TransactionStatus="Finished"', b'TransactionStatus="PostVoided"'),
    "status-suspended": ("arts6", b'TransactionStatus="Finished"', b'TransactionStatus="acs:Suspended"'),
    "line-time-bad": ("arts6", b">2026-03-02T09:05:10+01:00<", b">10 past 9<"),
    "local-times": ("arts6", b"2026-03-02T09:05:00+01:00", b"2026-03-02T09:05:00"),
}  # fmt: skip
GENERATED = 2000
"""Generated benchmark transactions compared, in chunks of ``CHUNK`` (one digest a chunk)."""
CHUNK = 100


def digest(record: object) -> str:
    text = (
        json.dumps(record.to_dict(), sort_keys=True) if isinstance(record, Quarantined) else record.model_dump_json()  # type: ignore[attr-defined]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def digests(data: bytes, name: str, tz: tzinfo) -> list[str]:
    return [digest(r) for r in parse_poslog(data, name, tz)]


def damaged(name: str) -> bytes:
    sample, old, new = DAMAGED[name]
    data = SAMPLES[sample][0].read_bytes()
    assert old in data, f"{name}: {old!r} is not in the {sample} sample"
    return data.replace(old, new, 1)


def generated(folder: Path) -> list[str]:
    (path,) = write_files(folder, GENERATED, "poslog", per_file=GENERATED, seed=11)
    each = digests(path.read_bytes(), "generated.xml", UTC)
    return [hashlib.sha256("".join(each[i : i + CHUNK]).encode()).hexdigest()[:20] for i in range(0, len(each), CHUNK)]


def snapshot(folder: Path) -> dict[str, list[str]]:
    """Every digest, by input (the samples that are there)."""
    out = {}
    for key, (path, tz) in SAMPLES.items():
        if path.exists():
            out[key] = digests(path.read_bytes(), f"{key}.xml", tz)
    for name, (sample, _, _) in DAMAGED.items():
        if SAMPLES[sample][0].exists():
            out[f"damaged:{name}"] = digests(damaged(name), f"{name}.xml", SAMPLES[sample][1])
    out["generated"] = generated(folder)
    return out


@pytest.fixture(scope="module")
def golden() -> dict[str, list[str]]:
    return dict(json.loads(GOLDEN.read_text()))


@pytest.mark.parametrize("key", list(SAMPLES))
def test_samples_parse_as_before(key: str, golden: dict[str, list[str]]) -> None:
    path, tz = SAMPLES[key]
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data set beside the project root)")
    now = digests(path.read_bytes(), f"{key}.xml", tz)
    assert len(now) == len(golden[key])
    changed = [i + 1 for i, (a, b) in enumerate(zip(now, golden[key], strict=True)) if a != b]
    assert changed == [], f"{key}: Transaction[n] that differ"


@pytest.mark.parametrize("name", list(DAMAGED))
def test_damaged_samples_parse_as_before(name: str, golden: dict[str, list[str]]) -> None:
    sample, _, _ = DAMAGED[name]
    if not SAMPLES[sample][0].exists():
        pytest.skip(f"needs {SAMPLES[sample][0]} (the shared data set beside the project root)")
    data = damaged(name)
    now = digests(data, f"{name}.xml", SAMPLES[sample][1])
    if now != golden[f"damaged:{name}"]:  # say what is read now, to compare with the parser as it was
        results = [str(r) if isinstance(r, Quarantined) else r.key for r in parse_poslog(data, "x", UTC)]
        pytest.fail(f"{name}: records differ; now: {results}")


def test_generated_benchmark_transactions_parse_as_before(tmp_path: Path, golden: dict[str, list[str]]) -> None:
    now = generated(tmp_path)
    changed = [i * CHUNK for i, (a, b) in enumerate(zip(now, golden["generated"], strict=True)) if a != b]
    assert changed == [], "the chunks of generated transactions (by first index) that differ"


@pytest.mark.parametrize(
    ("text", "exponent", "expected"),
    [
        ("12.50", 2, 1250), ("-93.66", 2, -9366), ("2.999", 2, 300), ("2.995", 2, 300), ("2.985", 2, 298),
        ("5", 0, 5), ("1.26", 0, 1), ("1e2", 2, 10000), (" 7.5 ", 2, 750), ("0.001", 3, 1),
        ("12,50", 2, "'12,50' is not an amount"), ("nan", 2, "'nan' is not a finite amount"),
        ("", 2, "'' is not an amount"),
    ],
)  # fmt: skip
def test_amounts_read_the_same_the_second_time(text: str, exponent: int, expected: int | str) -> None:
    """Amounts are remembered by their text: the second reading (from the cache) gives what the first gave, and an
    error names the path of each place the text is read."""
    for path in ("a/ExtendedAmount", "b/Amount"):
        if isinstance(expected, int):
            assert to_minor(text, path, exponent=exponent) == expected
        else:
            with pytest.raises(RecordError) as caught:
                to_minor(text, path, exponent=exponent)
            assert (caught.value.path, caught.value.message) == (path, expected)


if __name__ == "__main__":  # rewrite the golden file with what the parser gives now
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        GOLDEN.write_text(json.dumps(snapshot(Path(tmp)), indent=0) + "\n")
    print(f"wrote {GOLDEN}", file=sys.stderr)
