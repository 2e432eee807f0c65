"""The cashier exception report as files: CSV (one row per exception, for a spreadsheet or another system) and PDF
(for a meeting or a case file: title, stores, period, when it was made, the filters, the summary per cashier with
the peer statistics, per register and per shift, then every exception).

PDF by **reportlab** (BSD, pure Python, kept up since 2000): its ``platypus`` tables flow over as many pages as the
list needs with the header row repeated, which the hand-written one-page writer of ``incidents.pdf`` cannot do.
The built-in Helvetica covers Latin-1; other characters in POS text (names, item descriptions) may show as blanks.

CSV cells that a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``) get a leading
``'``; numbers are written as numbers.

>>> safe_cell("=HYPERLINK(1)"), safe_cell("-12.50"), safe_cell(-3)
("'=HYPERLINK(1)", '-12.50', -3)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from storewatch.pos.peers import Z_CAP, PeerStats
from storewatch.pos.report import CashierRow, ExceptionReport, GroupRow

MAX_PDF_LINES = 5000
"""Exceptions a PDF lists at most (about 170 pages); the CSV has no limit."""
CSV_COLUMNS = (
    "time_local", "time_utc", "store", "site_store", "register", "sequence", "operator", "operator_name", "code",
    "amount_minor", "amount", "currency", "shift", "transaction", "explanation", "camera", "clip_start_utc",
    "clip_end_utc", "exception_id", "values",
)  # fmt: skip


def safe_cell(value: object) -> object:
    """A cell a spreadsheet shows as text, never runs (numbers and number-like text stay as they are)."""
    if not isinstance(value, str) or not value or value[0] not in "=+-@\t\r":
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def _local(t: datetime | None, tz: ZoneInfo) -> str:
    return "" if t is None else t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def report_csv(report: ExceptionReport) -> str:
    tz = ZoneInfo(report.timezone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    names = {(c.store, c.operator): c.name for c in report.cashiers if c.name}
    for ln in report.lines:
        e, tx = ln.exception, ln.transaction
        when = e.period_start_utc or e.at_utc
        row = [
            _local(when, tz), when.astimezone(UTC).isoformat(), e.store, ln.site_store, e.register or "",
            "" if e.sequence is None else e.sequence, e.operator or "",
            (tx.operator_name if tx else None) or names.get((e.store, e.operator or ""), ""),
            e.code.value, "" if ln.amount_minor is None else ln.amount_minor, ln.amount, ln.currency or "",
            ln.shift.label, ln.details, e.explanation, e.clip.camera if e.clip else "",
            e.clip.start_utc.isoformat() if e.clip else "", e.clip.end_utc.isoformat() if e.clip else "", e.id,
            json.dumps(e.values, sort_keys=True),
        ]  # fmt: skip
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def report_title(report: ExceptionReport) -> str:
    q = report.query
    days = q.first_day.isoformat() if q.first_day == q.last_day else f"{q.first_day} to {q.last_day}"
    return f"POS exceptions {days}"


def filters_text(report: ExceptionReport) -> str:
    q = report.query
    parts = [f"{name} {value}" for name, value in (("cashier", q.operator), ("register", q.register),
             ("code", q.code.value if q.code else None), ("shift", q.shift)) if value]  # fmt: skip
    return ", ".join(parts) or "none"


def stats_text(s: PeerStats | None) -> str:
    """``3/40 = 7.5%, peers 2.0% (MAD 0.5%), z 7.4, x3.8, 4 peers`` or a dash (``>999``: the peers' MAD or
    median is 0 and the rate is above it)."""
    if s is None:
        return "-"
    v = s.values()
    z, ratio = (">999" if x >= Z_CAP else str(x) for x in (v["robust_z"], v["ratio_to_median"]))
    return (f"{s.events}/{s.transactions} = {100 * s.rate:.1f}%, peers {100 * s.peer_median_rate:.1f}% "
            f"(MAD {100 * s.peer_mad:.1f}%), z {z}, x{ratio}, {s.peers} peers")  # fmt: skip


def report_pdf(report: ExceptionReport, store_label: Callable[[str], str] = str) -> bytes:
    """The report as an A4 landscape PDF."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    tz = ZoneInfo(report.timezone)

    def p(text: object) -> Paragraph:
        return Paragraph(escape(str(text)), small)

    def table(head: list[str], rows: list[list[object]], widths: list[float], wrap: set[int] | None = None) -> Table:
        """``wrap``: the columns whose text wraps (the others are one line: far quicker for long lists)."""
        body = [[p(c) if wrap is None or i in wrap else str(c) for i, c in enumerate(r)] for r in rows]
        t = Table([[p(h) for h in head], *body], colWidths=[w * mm for w in widths], repeatRows=1, hAlign="LEFT")
        t.setStyle(TableStyle([
            ("FONT", (0, 1), (-1, -1), "Helvetica", 7.5),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf2")),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b8c0cc")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f7f8fa")]),
        ]))  # fmt: skip
        return t

    stores = sorted({store_label(c.site_store) for c in report.cashiers} | {store_label(ln.site_store)
                    for ln in report.lines})  # fmt: skip
    start_local = report.start_utc.astimezone(tz)
    end_local = (report.end_utc - timedelta(seconds=1)).astimezone(tz)
    facts = [
        f"Stores: {', '.join(stores) or 'none with data'}",
        f"Period: {start_local:%Y-%m-%d %H:%M} to {end_local:%Y-%m-%d %H:%M} ({report.timezone})",
        f"Generated: {report.generated_utc.astimezone(tz):%Y-%m-%d %H:%M:%S} ({report.timezone})",
        f"Filters: {filters_text(report)}",
        f"Exceptions: {len(report.lines)}",
    ]
    story: list[object] = [Paragraph(escape(report_title(report)), styles["Title"])]
    story += [Paragraph(escape(f), styles["BodyText"]) for f in facts]
    story += [Spacer(1, 4 * mm), Paragraph("Per cashier", styles["Heading2"])]
    story.append(Paragraph(escape(
        "Rates are void lines (refund transactions) per completed retail transaction over the period, against "
        f"the other cashiers of the store with at least {report.peer_min_transactions} transactions: the peers' "
        "median and MAD, the robust z-score 0.6745 (rate - median) / MAD and the ratio to the median, as the "
        "excessive_voids and excessive_refunds rules compute them per business day. Tx: completed retail "
        "transactions. A dash: no baseline (no transactions, or no other cashier to compare with)."),
        small))  # fmt: skip
    codes = report.codes
    heads = [c.replace("_", " ") for c in codes]
    story.append(table(
        ["Cashier", "Store", "Tx", *heads, "Total", "Voids vs peers", "Refunds vs peers"],
        [_cashier_cells(c, codes, store_label) for c in report.cashiers],
        [34, 22, 14, *_code_widths(len(codes), 34 + 22 + 14 + 12 + 2 * 60), 12, 60, 60],
    ))  # fmt: skip
    for title, rows, volume in (("Per register", report.registers, True), ("Per shift", report.shifts, False)):
        story += [Spacer(1, 4 * mm), KeepTogether([Paragraph(title, styles["Heading2"]), table(
            ["", "Store", *(["Tx"] if volume else []), *heads, "Total"],
            [_group_cells(g, codes, store_label, volume) for g in rows],
            [70, 26, *([16] if volume else []), *_code_widths(len(codes), 70 + 26 + 16 + 14), 14],
        )])]  # fmt: skip
    story += [Spacer(1, 4 * mm), Paragraph("Exceptions", styles["Heading2"])]
    listed = report.lines[:MAX_PDF_LINES]
    if len(report.lines) > len(listed):
        story.append(Paragraph(escape(f"The first {len(listed)} of {len(report.lines)} exceptions; the CSV export "
                                      "holds them all."), styles["BodyText"]))  # fmt: skip
    story.append(table(
        ["Time", "Store", "Register", "Cashier", "Code", "Amount", "Transaction", "Explanation", "Video"],
        [[_local(ln.exception.period_start_utc or ln.exception.at_utc, tz), store_label(ln.site_store),
          ln.exception.register or "", ln.exception.operator or "", ln.exception.code.value, ln.amount, ln.details,
          ln.exception.explanation, ln.exception.clip.camera if ln.exception.clip else "none"]
         for ln in listed],
        [28, 20, 16, 16, 37, 20, 46, 65, 24], wrap={6, 7},
    ))  # fmt: skip
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                            topMargin=10 * mm, bottomMargin=12 * mm, title=report_title(report),
                            author="storewatch", subject="POS exception report")  # fmt: skip

    def footer(canvas: object, doc_: object) -> None:
        canvas.setFont("Helvetica", 7)  # type: ignore[attr-defined]
        canvas.drawString(10 * mm, 6 * mm, f"{report_title(report)} - page {doc_.page}")  # type: ignore[attr-defined]

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _code_widths(n: int, fixed: float, page_mm: float = 272.0) -> list[float]:
    """Widths (mm) of ``n`` count columns sharing what the ``fixed`` columns leave of the page."""
    return [min(24.0, max(10.0, (page_mm - fixed) / n))] * n if n else []


def _cashier_cells(c: CashierRow, codes: list[str], label: Callable[[str], str]) -> list[object]:
    who = f"{c.operator} {c.name}" if c.name else c.operator
    return [who + (" (raised)" if c.raised else ""), label(c.site_store), c.transactions,
            *[c.counts.get(k, 0) for k in codes], c.total, stats_text(c.voids), stats_text(c.refunds)]  # fmt: skip


def _group_cells(g: GroupRow, codes: list[str], label: Callable[[str], str], volume: bool) -> list[object]:
    return [g.label, label(g.site_store), *([g.transactions or 0] if volume else []),
            *[g.counts.get(k, 0) for k in codes], g.total]  # fmt: skip
