"""The cashier exception report on both backends: the real NCR sample of store 9 (its 6 exceptions, sign-on shifts,
registers, cashiers), the peer statistics equal to the ``excessive_voids`` rule's own, filters, store tenancy by
POS store, shifts by the clock, the CSV and PDF exports (content read back) and ``storewatch pos report``."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from storewatch.cli.app import main
from storewatch.pos.config import PosConfig, PosReportConfig, ShiftHours
from storewatch.pos.exceptions import ExceptionCode
from storewatch.pos.model import LineItem, LineKind
from storewatch.pos.report import ExceptionReport, ExceptionReports, ReportQuery
from storewatch.pos.report_export import CSV_COLUMNS, report_csv, report_pdf, safe_cell
from storewatch.pos.service import PosIngestService
from storewatch.pos.shifts import ShiftBook, SignEvent
from storewatch.store.audit import AuditLog
from storewatch.store.db import Database, default_url, open_database
from storewatch.store.migrate import upgrade
from tests.pos.conftest import T0, make_tx, sale

DAY = date(2017, 10, 1)
CHICAGO = PosConfig(timezone="America/Chicago")


def _store9(database: Database, store9: Path, config: PosConfig = CHICAGO) -> ExceptionReports:
    PosIngestService(database, config).ingest_file(store9)
    return ExceptionReports(database, config)


def test_the_store9_sample_per_cashier_register_and_shift(database: Database, store9: Path) -> None:
    report = _store9(database, store9).report(ReportQuery(first_day=DAY, last_day=DAY))
    assert sorted(ln.exception.code.value for ln in report.lines) == ["no_sale"] * 2 + ["void_line"] * 4
    assert report.codes == ["void_line", "no_sale"]
    by_op = {c.operator: c for c in report.cashiers}
    assert set(by_op) == {"254", "437", "745", "759", "91", "92", "94"}
    assert (by_op["759"].name, by_op["759"].counts, by_op["759"].transactions) == ("Isaiah M", {"no_sale": 2}, 0)
    assert by_op["437"].counts == {"void_line": 1} and by_op["437"].transactions == 10
    assert report.cashiers[0].operator == "759"  # the most exceptions first
    assert by_op["437"].voids is None  # the sample's cashiers have fewer than the rules' 20 transactions
    registers = {g.key: (g.total, g.transactions) for g in report.registers}
    assert registers == {"9/5": (2, 0), "9/1": (1, 8), "9/2": (1, 7), "9/3": (1, 10), "9/31": (1, 6)}
    no_sales = [ln for ln in report.lines if ln.exception.code is ExceptionCode.NO_SALE]
    assert {ln.shift.kind for ln in no_sales} == {"sign-on"}  # 759 signed on at register 5 just before
    assert no_sales[0].shift.label.startswith("register 5 · 759 · 2017-10-01 15:19")
    voids = [ln for ln in report.lines if ln.exception.code is ExceptionCode.VOID_LINE]
    assert {ln.shift.key for ln in voids} == {"late 2017-10-01"}  # no sign-on record: by the clock (Chicago)
    amounts = sorted(ln.amount for ln in voids)
    assert amounts == ["12.50 USD", "2.79 USD", "4.40 USD", "93.66 USD"]
    assert next(ln for ln in voids if ln.exception.register == "3").details.startswith("sale, 60 lines (1 void)")
    assert sum(g.total for g in report.shifts) == 6


def test_filters_narrow_the_report(database: Database, store9: Path) -> None:
    reports = _store9(database, store9)

    def count(**filters: object) -> int:
        return len(reports.report(ReportQuery.model_validate({"first_day": DAY, "last_day": DAY, **filters})).lines)

    assert count(code="no_sale") == 2 and count(operator="437") == 1 and count(register="5") == 2
    assert count(stores=["9"]) == 6 and count(stores=["12"]) == 0 and count(stores=[]) == 0
    assert count(shift="late 2017-10-01") == 4
    assert count(first_day=DAY + timedelta(days=1), last_day=DAY + timedelta(days=1)) == 0
    one = reports.report(ReportQuery(first_day=DAY, last_day=DAY, operator="437"))
    assert [c.operator for c in one.cashiers] == ["437"]


def test_bad_queries_are_refused_with_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="the period ends"):
        ReportQuery(first_day=DAY, last_day=DAY - timedelta(days=1))
    with pytest.raises(ValidationError, match="longer than 366 days"):
        ReportQuery(first_day=DAY, last_day=DAY + timedelta(days=400))
    with pytest.raises(ValidationError, match="code"):
        ReportQuery.model_validate({"first_day": DAY, "last_day": DAY, "code": "nope"})
    with pytest.raises(ValidationError, match="is not a POS id"):
        ReportQuery.model_validate({"first_day": DAY, "last_day": DAY, "operator": "a/b"})


def _peer_day(database: Database) -> tuple[PosIngestService, ExceptionReport]:
    txs, seq = [], 0
    for op in "abcde":
        for i in range(25):
            seq += 1
            voided = (op == "e" and i < 8) or (op == "b" and i == 0)
            lines = (sale(1, 500), sale(2, 700)) + ((LineItem(number=3, kind=LineKind.VOID, amount_minor=-700),)
                                                    if voided else ())  # fmt: skip
            txs.append(make_tx(seq, lines, operator=op, end=T0 + timedelta(minutes=seq)))
    service = PosIngestService(database, PosConfig())
    service.ingest(txs, "peers")
    day = T0.date()
    return service, ExceptionReports(database, PosConfig()).report(ReportQuery(first_day=day, last_day=day))


def test_the_peer_statistics_are_the_rules_own(database: Database) -> None:
    service, report = _peer_day(database)
    finding = next(e for e in service.repo.exceptions() if e.code is ExceptionCode.EXCESSIVE_VOIDS)
    row = next(c for c in report.cashiers if c.operator == "e")
    assert row.voids is not None and row.voids.values() == finding.values  # the same numbers as the rule's
    assert row.raised and row.counts == {"void_line": 8, "excessive_voids": 1}
    b = next(c for c in report.cashiers if c.operator == "b")
    assert b.voids is not None and b.voids.peers == 4 and not b.raised
    assert b.refunds is not None and b.refunds.rate == 0.0


def test_shifts_by_sign_on_and_by_the_clock() -> None:
    tz = ZoneInfo("Europe/Madrid")
    at = lambda h, m=0: datetime.combine(date(2026, 3, 2), time(h, m), tz).astimezone(UTC)  # noqa: E731
    signs = [
        SignEvent("9", "2", "E1", True, at(8)),
        SignEvent("9", "2", "E2", True, at(11)),  # E1 never signed off: E2's sign-on ends E1's shift
        SignEvent("9", "2", "E2", False, at(15)),
        SignEvent("9", "3", "E3", True, at(9)),  # no sign-off at all: max_shift_h
    ]
    config = PosReportConfig(
        shift_hours=(ShiftHours(name="day", start=time(7), end=time(19)), ShiftHours(name="eve", start=time(19),
                     end=time(1))), max_shift_h=6)  # fmt: skip
    book = ShiftBook(signs, config, tz)
    assert book.shift_of("9", "2", "E1", at(10, 59)).key == "9/2/E1@2026-03-02T08:00"
    assert book.shift_of("9", "2", "E1", at(11, 1)).key == "day 2026-03-02"  # after E2 signed on
    assert book.shift_of("9", "2", "E2", at(14)).label == "register 2 · E2 · 2026-03-02 11:00-15:00"
    assert book.shift_of("9", "3", "E3", at(14, 59)).kind == "sign-on"
    assert book.shift_of("9", "3", "E3", at(15, 1)).kind == "hours"
    assert book.shift_of("9", "2", "E9", at(12)).key == "day 2026-03-02"  # someone else at that register
    assert book.by_hours(at(0, 30)).key == "eve 2026-03-01"  # crossing midnight: the day it started
    assert book.by_hours(at(3)).key == "off-hours 2026-03-02"
    with pytest.raises(ValidationError, match="write the time in quotes"):
        ShiftHours.model_validate({"name": "x", "start": 360, "end": "14:00"})
    with pytest.raises(ValidationError, match="shift names must be unique"):
        PosReportConfig(shift_hours=(ShiftHours(name="a", start=time(1), end=time(2)),) * 2)


def test_a_pos_store_belongs_to_a_site_store() -> None:
    cfg = PosConfig.model_validate({
        "tills": [{"store": "9", "register": "2", "camera": "s9/till-2"}],
        "report": {"site_stores": {"12": "s12"}},
    })  # fmt: skip
    assert (cfg.site_store("9"), cfg.site_store("12"), cfg.site_store("s3")) == ("s9", "s12", "s3")


def test_a_site_store_that_the_site_lacks_is_an_error(tmp_path: Path) -> None:
    from storewatch.config.loader import load_site_config
    from storewatch.errors import ConfigError

    site = tmp_path / "site.yaml"
    site.write_text('site: {id: x}\nstores: [{id: s1}]\npos:\n  report:\n    site_stores: {"12": s2}\n')
    with pytest.raises(ConfigError, match="POS store 12 is given as site store 's2', which the site lacks"):
        load_site_config(site)


def test_csv_export_holds_every_exception(database: Database, store9: Path) -> None:
    report = _store9(database, store9).report(ReportQuery(first_day=DAY, last_day=DAY))
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 6
    void3 = next(r for r in rows if r["register"] == "3")
    assert (void3["code"], void3["amount_minor"], void3["amount"], void3["operator_name"]) == (
        "void_line", "9366", "93.66 USD", "John R")  # fmt: skip
    assert void3["time_local"] == "2017-10-01 15:25:00" and void3["time_utc"] == "2017-10-01T20:25:00+00:00"
    assert void3["shift"] == "late 2017-10-01 (14:00-22:00)" and void3["exception_id"] == "void_line:9/3/2017-10-01/92"
    assert safe_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0" and safe_cell("-2.5") == "-2.5"


def test_pdf_export_reads_back(database: Database, store9: Path) -> None:
    report = _store9(database, store9).report(ReportQuery(first_day=DAY, last_day=DAY))
    pdf = report_pdf(report, lambda s: f"Store {s}")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert reader.metadata is not None and reader.metadata.title == "POS exceptions 2017-10-01"
    for expected in ("POS exceptions 2017-10-01", "Stores: Store 9", "Period: 2017-10-01 00:00 to 2017-10-01 23:59",
                     "Generated:", "Per cashier", "robust z-score", "Isaiah M", "Per register", "Per shift",
                     "Exceptions", "93.66 USD", "drawer opened without a sale"):  # fmt: skip
        assert expected in text, expected


def test_pos_report_command(tmp_path: Path, store9: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    upgrade(default_url(data))
    common = ["--data-dir", str(data), "--timezone", "America/Chicago"]
    assert main(["pos", "ingest", str(store9), *common, "--workers", "1"]) == 0
    out = tmp_path / "r.pdf"
    args = ["pos", "report", "--store", "9", "--from", "2017-10-01", "--to", "2017-10-01", "--out"]
    assert main([*args, str(out), "--format", "pdf", *common, "--by", "lp-desk"]) == 0
    assert PdfReader(out).pages[0].extract_text().startswith("POS exceptions 2017-10-01")
    assert main([*args, str(tmp_path / "r.csv"), "--code", "no_sale", *common]) == 0
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 3
    assert "r.csv: 2 exceptions" in capsys.readouterr().out
    with open_database(default_url(data)) as db:
        exports = [e for e in AuditLog(db).list(newest_first=False) if e.action == "export"]
    assert [(e.actor, e.store, e.target, json.loads(e.detail)["format"]) for e in exports] == [
        ("lp-desk", "9", "pos_exceptions", "pdf"),
        (exports[1].actor, "9", "pos_exceptions", "csv"),
    ]
    assert main(["pos", "report", "--from", "2017-10-02", "--to", "2017-10-01", "--out", "x", *common]) == 2
    assert "the period ends (2017-10-01) before it starts" in capsys.readouterr().err
    assert main(["pos", "report", "--store", "77", "--from", "2017-10-01", "--out", "x", *common]) == 2
    assert "--store 77: no POS data" in capsys.readouterr().err


def test_period_findings_are_the_cashiers_business_day(database: Database) -> None:
    _, report = _peer_day(database)
    day = [ln for ln in report.lines if ln.exception.code is ExceptionCode.EXCESSIVE_VOIDS]
    assert len(day) == 1 and day[0].shift.kind == "day" and day[0].details == "cashier's business day"


def test_a_page_reads_the_transactions_of_only_the_exceptions_it_lists(database: Database, store9: Path) -> None:
    reports = _store9(database, store9)
    query = ReportQuery(first_day=DAY, last_day=DAY)
    full, page = reports.report(query), reports.report(query, details=2)
    assert [ln.transaction is not None for ln in page.lines] == [False] * 4 + [True] * 2
    assert [c.counts for c in page.cashiers] == [c.counts for c in full.cashiers]  # counts over every exception
    assert {c.operator: c.name for c in page.cashiers} == {c.operator: c.name for c in full.cashiers}
