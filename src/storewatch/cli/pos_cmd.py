"""``storewatch pos check|ingest|watch|mqtt|nats|report``: read POS files offline, ingest them into the store, watch
a drop folder, subscribe to an MQTT topic or read a NATS JetStream subject, write the exception report of a period
(CSV or PDF)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from storewatch.cli.database import DatabaseOpt, DataDirOpt, open_store, record_audit
from storewatch.cli.dropfolder import FolderArg, IntervalOpt, OnceOpt, SettleOpt, watch_folder
from storewatch.cli.options import ByOpt, actor_name

if TYPE_CHECKING:
    from storewatch.pos.config import PosConfig
    from storewatch.pos.exceptions import PosException
    from storewatch.pos.model import Transaction
    from storewatch.pos.records import Quarantined

app = typer.Typer(
    help="POS transactions: check files, ingest them, watch a drop folder, read MQTT or NATS.", no_args_is_help=True
)

FilesArg = Annotated[list[Path], typer.Argument(help="POSLog XML (2.x, 6.0), JSON/JSON Lines or CSV files.")]
PosConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="YAML with the pos section (rules, tills, timezone).")
]
TimezoneOpt = Annotated[
    str | None, typer.Option("--timezone", help="IANA zone of times written without an offset (overrides config).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


def _config(path: Path | None, timezone: str | None) -> PosConfig:
    from storewatch.errors import ConfigError
    from storewatch.pos.config import PosConfig, load_pos_config

    cfg = load_pos_config(path) if path is not None else PosConfig()
    if timezone is not None:
        try:
            cfg = PosConfig.model_validate({**cfg.model_dump(), "timezone": timezone})
        except ValueError as exc:
            raise ConfigError(f"--timezone {timezone!r}: unknown time zone (use an IANA name)") from exc
    return cfg


def _report_quarantined(items: Iterable[Quarantined]) -> int:
    n = 0
    for q in items:
        typer.secho(f"quarantined: {q}", err=True, fg=typer.colors.YELLOW)
        n += 1
    return n


@app.command("check")
def check(files: FilesArg, as_json: JsonOpt = False, config: PosConfigOpt = None, timezone: TimezoneOpt = None) -> None:
    """Parse files offline and run the transaction rules: one line (or JSON object) per transaction with its
    exception codes; records that cannot be read go to stderr and make the exit status 1."""
    from zoneinfo import ZoneInfo

    from storewatch.pos.formats import parse_file
    from storewatch.pos.records import Quarantined
    from storewatch.pos.rules import TransactionRules

    cfg = _config(config, timezone)
    rules, tz = TransactionRules(cfg), ZoneInfo(cfg.timezone)
    transactions: list[Transaction] = []
    quarantined: list[Quarantined] = []
    for path in files:
        for r in parse_file(path, tz):
            if isinstance(r, Quarantined):
                quarantined.append(r)
            else:
                transactions.append(r)
    found: dict[str, list[PosException]] = {tx.key: rules.check(tx) for tx in transactions}
    period = _period_findings(transactions, cfg)
    for tx in transactions:
        found[tx.key] += [e for e in period.get(_day(tx), []) if _concerns(e, tx)]
    for tx in transactions:
        codes = [e.code.value for e in found[tx.key]]
        if as_json:
            print(json.dumps(_summary(tx, found[tx.key])))
        else:
            print(f"{tx.key:<24} {tx.type.value:<9} {tx.end_utc:%Y-%m-%d %H:%M:%S}  {' '.join(codes) or '-'}")
    if not as_json:
        for e in (e for day in period.values() for e in day):
            print(f"{e.code.value}: {e.explanation}")
        print(f"{len(transactions)} transactions, {sum(map(len, found.values()))} exceptions, "
              f"{len(quarantined)} quarantined")  # fmt: skip
    if _report_quarantined(quarantined):
        raise typer.Exit(1)


def _summary(tx: Transaction, found: list[PosException]) -> dict[str, Any]:
    return {
        "store": tx.store,
        "register": tx.register,
        "sequence": tx.sequence,
        "type": tx.type.value,
        "status": tx.status.value,
        "operator": tx.operator,
        "end_utc": tx.end_utc.isoformat(),
        "total_minor": tx.total_minor,
        "lines": len(tx.lines),
        "void_lines": len(tx.void_lines),
        "exceptions": [e.code.value for e in found],
        "details": [{"code": e.code.value, "explanation": e.explanation, "values": e.values} for e in found],
        "source": tx.source,
    }


def _day(tx: Transaction) -> tuple[str, date]:
    return tx.store, tx.day


def _period_findings(transactions: list[Transaction], cfg: PosConfig) -> dict[tuple[str, date], list[PosException]]:
    """The peer rules per store and business day over the checked files."""
    from zoneinfo import ZoneInfo

    from storewatch.pos.peers import activity_of, excessive_refunds, excessive_voids

    days: dict[tuple[str, date], list[Transaction]] = {}
    for tx in transactions:
        days.setdefault(_day(tx), []).append(tx)
    found: dict[tuple[str, date], list[PosException]] = {}
    for key, txs in sorted(days.items()):
        start = datetime.combine(key[1], time(0), ZoneInfo(cfg.timezone))
        end = start + timedelta(days=1)
        activity = activity_of(txs)
        rules = cfg.rules
        found[key] = excessive_voids(activity, rules.excessive_voids, start, end) + excessive_refunds(
            activity, rules.excessive_refunds, start, end
        )
    return found


def _concerns(e: PosException, tx: Transaction) -> bool:
    """Whether a cashier's finding of the day concerns this transaction (one of the voids or refunds counted)."""
    from storewatch.pos.exceptions import ExceptionCode
    from storewatch.pos.model import TransactionType

    if e.operator != tx.operator:
        return False
    if e.code is ExceptionCode.EXCESSIVE_VOIDS:
        return bool(tx.void_lines)
    return tx.type in (TransactionType.RETURN, TransactionType.EXCHANGE)


@app.command("ingest")
def ingest(
    files: FilesArg,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    config: PosConfigOpt = None,
    timezone: TimezoneOpt = None,
    as_json: JsonOpt = False,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Processes parsing files (default: CPUs).")] = None,
) -> None:
    """Ingest files into the store (idempotent: a file ingested twice changes nothing). Records that cannot be
    read are kept in the quarantine table and listed on stderr; the exit status is then 1."""
    import os
    from itertools import accumulate

    from storewatch.pos.service import PosIngestService
    from storewatch.progress import fraction_progress

    cfg = _config(config, timezone)
    bad = 0
    ends = list(accumulate(p.stat().st_size if p.is_file() else 0 for p in files))
    with open_store(data_dir, database) as db:
        service = PosIngestService(db, cfg)
        with fraction_progress() as bar:
            task = bar.add_task(f"Ingesting {len(files)} file(s)", total=1.0)

            def progress(done: int, transactions: int) -> None:
                bar.update(
                    task,
                    completed=ends[done - 1] / ends[-1] if ends[-1] else done / len(files),
                    description=f"{done}/{len(files)} file(s), {transactions:,} transactions",
                )

            reports = service.ingest_files(files, workers or os.cpu_count() or 1, progress)
        for path, report in zip(files, reports, strict=True):
            body = report.to_dict()
            if as_json:
                print(
                    json.dumps(
                        {k: v for k, v in body.items() if k != "quarantined"} | {"quarantined": len(report.quarantined)}
                    )
                )
            else:
                print(f"{path}: {report.accepted} accepted ({report.inserted} new, {report.updated} changed, "
                      f"{report.unchanged} already stored), {len(report.quarantined)} quarantined, "
                      f"{report.exceptions} exceptions")  # fmt: skip
            bad += _report_quarantined(report.quarantined)
    if bad:
        raise typer.Exit(1)


@app.command("watch")
def watch(
    folder: FolderArg,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    config: PosConfigOpt = None,
    timezone: TimezoneOpt = None,
    interval_s: IntervalOpt = 2.0,
    settle_s: SettleOpt = 2.0,
    once: OnceOpt = False,
) -> None:
    """Ingest each new file of a folder, then move it to done/ or (with an .errors.json report) quarantine/.
    (`storewatch run` watches the site's pos.sources.drop_folders itself.)"""
    from storewatch.pos.service import PosIngestService

    cfg = _config(config, timezone)
    with open_store(data_dir, database) as db:
        watch_folder(folder, PosIngestService(db, cfg).ingest_file, "pos-drop-folder", interval_s, settle_s, once)


@app.command("mqtt")
def mqtt_cmd(
    config: Annotated[Path, typer.Option("--config", help="The site file (or pos section) with pos.sources.mqtt.")],
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    messages: Annotated[
        int | None, typer.Option(min=1, help="Exit after this many messages (default: run until stopped).")
    ] = None,
) -> None:
    """Subscribe to pos.sources.mqtt and ingest each message (a POSLog, JSON, JSON Lines or CSV document)."""
    import threading

    from storewatch.errors import ConfigError
    from storewatch.pos.mqtt import PosMqttSubscriber
    from storewatch.pos.service import PosIngestService

    cfg = _config(config, None)
    if cfg.sources.mqtt is None:
        raise ConfigError(f"{config}: no pos.sources.mqtt section (broker host, port and topic)")
    with open_store(data_dir, database) as db:
        sub = PosMqttSubscriber(cfg.sources.mqtt, PosIngestService(db, cfg)).start()
        src = cfg.sources.mqtt
        print(f"subscribed to {src.topic} on {src.host}:{src.port}", file=sys.stderr)
        try:
            if messages is not None:
                while not sub.wait_for(messages, timeout_s=5.0):
                    pass
            else:
                threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
        finally:
            sub.stop()
        c = sub.counts
        print(f"{c.messages} messages: {c.accepted} transactions accepted, {c.quarantined} quarantined, "
              f"{c.failed} failed")  # fmt: skip


@app.command("nats")
def nats_cmd(
    config: Annotated[Path, typer.Option("--config", help="The site file (or pos section) with pos.sources.nats.")],
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    messages: Annotated[
        int | None, typer.Option(min=1, help="Exit after this many messages (default: run until stopped).")
    ] = None,
) -> None:
    """Read pos.sources.nats (a JetStream stream, durable consumer) and ingest each message; a message is
    acknowledged once stored. `storewatch run` does the same as a supervised worker: use this to run it alone."""
    import time as clock

    from storewatch.errors import ConfigError
    from storewatch.ingest.worker import IngestWorker
    from storewatch.pos.nats import PosNatsSource
    from storewatch.pos.service import PosIngestService
    from storewatch.runtime.health import Health

    cfg = _config(config, None)
    if cfg.sources.nats is None:
        raise ConfigError(f"{config}: no pos.sources.nats section (url, stream and subjects)")
    src = cfg.sources.nats
    with open_store(data_dir, database) as db:
        sub = PosNatsSource(src, PosIngestService(db, cfg))
        worker = IngestWorker(sub.name, "pos-nats", sub.step, sub.counts, interval_s=0.0, close=sub.close)
        print(f"reading {', '.join(src.subjects)} (stream {src.stream}) from {src.url}", file=sys.stderr)
        try:
            while messages is None or sub.counts.done + sub.counts.quarantined < messages:
                clock.sleep(worker.run_once())
                status = worker.status()
                if status.health is not Health.OK:
                    print(f"{status.health.value}: {status.reason}", file=sys.stderr)
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
        finally:
            worker.stop()
        c = sub.counts
        print(f"{c.done + c.quarantined} messages: {c.records_accepted} transactions accepted, "
              f"{c.records_quarantined} quarantined, {c.failures} failed fetches")  # fmt: skip


class ReportFormat(StrEnum):
    CSV = "csv"
    PDF = "pdf"


@app.command("report")
def report_cmd(
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    first_day: Annotated[str, typer.Option("--from", help="First business day, YYYY-MM-DD (POS time zone).")],
    last_day: Annotated[str | None, typer.Option("--to", help="Last business day (default: --from).")] = None,
    store: Annotated[
        list[str] | None, typer.Option(help="A site store (its POS stores) or a POS store id; repeat; default all.")
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="csv or pdf.")] = ReportFormat.CSV,
    cashier: Annotated[str | None, typer.Option(help="Only this cashier (operator id).")] = None,
    register: Annotated[str | None, typer.Option(help="Only this register.")] = None,
    code: Annotated[str | None, typer.Option(help="Only this exception code (e.g. void_line).")] = None,
    shift: Annotated[str | None, typer.Option(help="Only this shift (its key, as the report shows it).")] = None,
    config: PosConfigOpt = None,
    timezone: TimezoneOpt = None,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    by: ByOpt = "",
) -> None:
    """The exception report of a period: CSV (one row per exception) or PDF (summary per cashier with the peer
    statistics, per register and shift, then every exception). Recorded in the audit log as an export."""
    from pydantic import ValidationError

    from storewatch.errors import StorewatchError
    from storewatch.pos.report import ExceptionReports, ReportError, ReportQuery
    from storewatch.pos.report_export import report_csv, report_pdf

    cfg = _config(config, timezone)
    actor = actor_name(by)
    days = [_date_option(first_day, "--from"), _date_option(last_day or first_day, "--to")]
    with open_store(data_dir, database) as db:
        reports = ExceptionReports(db, cfg)
        stores = None
        if store:
            known = reports.reads.pos_stores()
            stores = tuple(sorted({p for s in store for p in known if p == s or cfg.site_store(p) == s}))
            if not stores:
                raise StorewatchError(f"--store {', '.join(store)}: no POS data of such a store "
                                      f"(POS stores with data: {', '.join(known) or 'none'})")  # fmt: skip
        try:
            query = ReportQuery.model_validate({"first_day": days[0], "last_day": days[1], "stores": stores,
                                                "operator": cashier, "register": register, "code": code,
                                                "shift": shift})  # fmt: skip
            report = reports.report(query)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'period'}: "
                                 f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())  # fmt: skip
            raise StorewatchError(problems) from None
        except ReportError as exc:
            raise StorewatchError(str(exc)) from None
        body = report_csv(report).encode() if fmt is ReportFormat.CSV else report_pdf(report, cfg.site_store)
        try:
            out.write_bytes(body)
        except OSError as exc:
            raise StorewatchError(f"{out}: cannot be written ({exc.strerror or exc})") from None
        sites = sorted({cfg.site_store(s) for s in stores}) if stores else [None]
        for site in sites:
            record_audit(db, actor, "export", site, "pos_exceptions", file=out.name, format=fmt.value,
                         rows=len(report.lines), first_day=str(days[0]), last_day=str(days[1]))  # fmt: skip
    print(f"{out}: {len(report.lines)} exceptions, {len(report.cashiers)} cashiers ({fmt.value})")


def _date_option(value: str, name: str) -> date:
    from storewatch.errors import StorewatchError

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise StorewatchError(f"{name} {value!r}: not a date (give YYYY-MM-DD)") from None
