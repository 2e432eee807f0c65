"""The JSON and CSV forms: the mapping of docs/pos.md read back exactly, and each bad record quarantined naming its
record, line and field while the rest of the file is read."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from storewatch.pos.config import PosConfig
from storewatch.pos.csvfmt import parse_csv
from storewatch.pos.formats import PosFormat, detect_format, parse_file
from storewatch.pos.jsonfmt import parse_json
from storewatch.pos.model import LineKind, LinkReason, Transaction, TransactionType
from storewatch.pos.records import Quarantined


def test_json_holds_exactly_what_poslog_gave(store9: Path, poslog6: Path, tmp_path: Path) -> None:
    txs = [r for p in (store9, poslog6) for r in parse_file(p, ZoneInfo("America/Chicago"))]
    assert all(isinstance(t, Transaction) for t in txs)
    doc = tmp_path / "all.json"
    doc.write_text(json.dumps({"transactions": [t.model_dump(mode="json") for t in txs]}))  # type: ignore[union-attr]
    assert list(parse_file(doc)) == txs
    lines = tmp_path / "all.jsonl"
    lines.write_text("".join(t.model_dump_json() + "\n" for t in txs))  # type: ignore[union-attr]
    assert list(parse_file(lines)) == txs


def test_json_naive_times_take_the_default_zone_and_errors_name_the_key_path() -> None:
    rec = {"store": "1", "register": "3", "sequence": 7, "type": "sale", "end_utc": "2026-01-02T10:00:00",
           "lines": [{"number": 1, "kind": "sale", "amount_minor": 100}, {"number": 2, "kind": "sale"}]}  # fmt: skip
    (q,) = parse_json(json.dumps([rec]).encode(), "a.json", ZoneInfo("Europe/Paris"))
    assert isinstance(q, Quarantined) and (q.record, q.path, q.error) == (
        "record 1 (store 1, register 3, sequence 7)", "lines[1].amount_minor", "Field required",
    )  # fmt: skip
    rec["lines"] = rec["lines"][:1]  # type: ignore[index]
    (t,) = parse_json(json.dumps(rec).encode(), "a.json", ZoneInfo("Europe/Paris"))
    assert isinstance(t, Transaction) and t.end_utc.isoformat() == "2026-01-02T09:00:00+00:00"
    (q,) = parse_json(json.dumps({**rec, "end_utc": "2026-01-02T10:00:00"}).encode(), "a.json", None)  # type: ignore[arg-type]
    assert isinstance(q, Quarantined) and q.path == "end_utc" and "time zone" in q.error


@pytest.mark.parametrize(
    ("text", "where"),
    [(b"[1, 2", "line 1, column 6"), (b'"just a string"', ""), (b"\xff\xfe", "byte 0")],
)  # fmt: skip
def test_unreadable_json_is_one_quarantined_record(text: bytes, where: str) -> None:
    (q,) = parse_json(text, "x.json")
    assert isinstance(q, Quarantined) and q.record == "file" and q.path == where


CSV = """store,register,sequence,type,status,business_day,start_utc,end_utc,operator,currency,tax_minor,total_minor,\
link_reason,link_store,link_register,link_sequence,row,number,kind,item_id,description,quantity,unit_price_minor,\
regular_price_minor,amount_minor,discount_minor,entry_method,price_override,voids_line,line_reason,original_store,\
original_register,original_sequence,at_utc,change_minor,card_type
12,4,500,sale,completed,2026-03-02,2026-03-02T10:00:00Z,2026-03-02T10:01:00Z,E7,GBP,0,1300,,,,,line,1,sale,111,Tea,\
1,800,1000,800,0,keyed,true,,damaged,,,,2026-03-02T10:00:10Z,,
12,4,500,sale,,,,2026-03-02T10:01:00Z,,,,,,,,,line,2,sale,222,Mug,1,500,500,500,0,scanned,,,,,,,,,
12,4,500,sale,,,,2026-03-02T10:01:00Z,,,,,,,,,tender,,cash,,,,,,1300,,,,,,,,,,200,
12,4,501,return,completed,2026-03-02,,2026-03-02T10:05:00Z,E7,GBP,0,-500,return,12,4,500,line,1,return,222,Mug,\
-1,500,,-500,,scanned,,,,12,4,500,,,
12,4,501,return,,,,2026-03-02T10:05:00Z,,,,,,,,,tender,,cash,,,,,,-500,,,,,,,,,,,
12,4,502,no_sale,completed,2026-03-02,,2026-03-02T10:07:00Z,E7,,,,,,,,transaction,,,,,,,,,,,,,,,,,,,
"""


def test_csv_mapping_reads_lines_tenders_and_links() -> None:
    txs = list(parse_csv(CSV.encode(), "day.csv"))
    assert all(isinstance(t, Transaction) for t in txs), [str(t) for t in txs]
    sale, ret, no_sale = txs  # type: ignore[misc]
    assert (sale.key, sale.operator, sale.currency, sale.total_minor) == ("12/4/2026-03-02/500", "E7", "GBP", 1300)
    assert [ln.item_id for ln in sale.lines] == ["111", "222"] and sale.lines[0].price_override
    assert sale.lines[0].reason == "damaged" and sale.lines[0].at_utc is not None
    assert sale.tenders[0].change_minor == 200 and sale.net_minor == sale.total_minor
    assert ret.type is TransactionType.RETURN and ret.link is not None and ret.link.reason is LinkReason.RETURN
    original = ret.return_lines[0].original
    assert original is not None and (original.register, original.sequence) == ("4", 500)
    assert ret.lines[0].kind is LineKind.RETURN and no_sale.type is TransactionType.NO_SALE and no_sale.lines == ()
    assert sale.source == "day.csv#2"


def test_csv_errors_name_the_line_and_column_and_the_rest_is_read() -> None:
    rows = CSV.splitlines()
    bad_amount = rows[2].replace(",500,500,500,0,scanned", ",500,500,5x0,0,scanned")
    other_operator = rows[5].replace("T10:05:00Z,,", "T10:05:00Z,E9,", 1)
    text = "\n".join([rows[0], rows[1], bad_amount, rows[3], rows[4], other_operator, rows[6], "1,2\n"])
    results = list(parse_csv(text.encode(), "day.csv"))
    bad = [(r.record, r.path, r.error[:26]) for r in results if isinstance(r, Quarantined)]
    assert bad == [
        ("lines 2-4 (store 12, register 4, sequence 500)", "line 3, column amount_minor", "Input should be a valid in"),
        ("lines 5-6 (store 12, register 4, sequence 501)", "line 6, column operator", "'E9' differs from 'E7' on "),
        ("line 8", "", "2 cells, the header has 36"),
    ]
    assert [r.key for r in results if isinstance(r, Transaction)] == ["12/4/2026-03-02/502"]


def test_csv_header_problems_quarantine_the_file() -> None:
    (q,) = parse_csv(b"store,register,sequence,type,row\n", "x.csv")
    assert isinstance(q, Quarantined) and q.error == "the header lacks column(s) end_utc"


def test_format_detection(tmp_path: Path) -> None:
    for name, body, fmt in (("a.dat", b"  <POSLog/>", PosFormat.POSLOG), ("b.txt", b"[]", PosFormat.JSON),
                            ("c", b"store,register\n", PosFormat.CSV), ("d.xml", b"", PosFormat.POSLOG)):  # fmt: skip
        (tmp_path / name).write_bytes(body)
        assert detect_format(tmp_path / name) is fmt
    (tmp_path / "e.bin").write_bytes(b"\x00\x01")
    (q,) = parse_file(tmp_path / "e.bin", UTC)
    assert isinstance(q, Quarantined) and q.error.startswith("unknown format")
    (q,) = parse_file(tmp_path / "missing.xml", UTC)
    assert isinstance(q, Quarantined) and q.error.startswith("cannot read")


def test_the_examples_in_the_docs_parse() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "pos.md").read_text()
    blocks = {lang: text for lang, text in (b.split("\n", 1) for b in docs.split("```")[1::2])}
    (tx,) = parse_json(blocks["json"].encode(), "docs.json")
    assert isinstance(tx, Transaction) and tx.type is TransactionType.RETURN and tx.net_minor == -5999
    sale, no_sale = parse_csv(blocks["csv"].encode(), "docs.csv")
    assert isinstance(sale, Transaction) and sale.net_minor == sale.total_minor == 1300
    assert isinstance(no_sale, Transaction) and no_sale.type is TransactionType.NO_SALE
    cfg = PosConfig.model_validate(yaml.safe_load(blocks["yaml"])["pos"])
    assert cfg.till("9", "2") is not None and cfg.rules.scan_gap.gap_s == 10
