"""The runner's ingest sources: ``storewatch run`` starts a supervised worker per configured POS and door-access
drop folder; good files go to done/, a malformed one among them to quarantine/ with its errors, the rest is
accepted and stored; /status and /metrics count them. The worker's supervision: a failing step degrades the
source and is retried with backoff, too many take it offline, a success makes it ok again; the file stays."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import ProxyHandler, build_opener

from storewatch.config.schema import SiteConfig
from storewatch.ingest.dropfolder import DropFolder
from storewatch.ingest.report import IngestCounts, Report
from storewatch.ingest.worker import IngestWorker
from storewatch.runtime.health import Health
from storewatch.runtime.runner import SiteRunner
from storewatch.runtime.supervisor import RestartPolicy
from storewatch.store.access import AccessRepository
from storewatch.store.pos import PosRepository
from tests.helpers import CountingDetector, wait_for

POSLOG6 = Path(__file__).parents[1] / "pos" / "data" / "arts-poslog-6.0-sample.xml"
DAY = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
BADGE = '{"store": "s1", "door": "D-1", "kind": "badge", "badge": "%s", "result": "%s", "at_utc": "%s"}\n'
BADGES = BADGE % ("B7", "granted", "2026-03-02T10:00:00Z") + BADGE % ("B8", "denied", "2026-03-02T10:01:00Z")


def _site(tmp_path: Path, access_drop: Path) -> SiteConfig:
    fast = {"settle_s": 0, "poll_s": 0.1}
    return SiteConfig.model_validate({
        "site": {"id": "t"},
        "stores": [{"id": "s1", "cameras": []}],
        "pos": {"sources": {"drop_folders": [{"path": "pos-drop", **fast}]}},
        "access": {"sources": {"drop_folders": [{"path": str(access_drop), **fast}]}},
        "runtime": {"data_dir": str(tmp_path / "data"), "status_port": 0},
    })  # fmt: skip


def _get(url: str) -> str:
    return build_opener(ProxyHandler({})).open(url, timeout=5).read().decode()


def test_the_runner_watches_its_drop_folders(tmp_path: Path) -> None:
    access_drop = tmp_path / "access-drop"
    pos_drop = tmp_path / "data" / "pos-drop"  # relative in the site file: in the data folder
    pos_drop.mkdir(parents=True)
    shutil.copy(POSLOG6, pos_drop / "day1.xml")
    tx = {"store": "9", "register": "2", "sequence": 5, "type": "no_sale", "end_utc": "2026-03-02T10:00:00Z"}
    (pos_drop / "day2.jsonl").write_text(json.dumps(tx) + '\n{"store": "9", "register": "2", "sequence": -1}\n')
    (pos_drop / "bad.csv").write_text("store,register,sequence,type,end_utc,row,price\n9,2,1,sale,2026-01-01Z,line,1\n")
    (pos_drop / "writing.xml.part").write_text("<POSLog")
    runner = SiteRunner(_site(tmp_path, access_drop), CountingDetector())
    runner.start()
    try:
        access_drop.mkdir(exist_ok=True)  # made by the runner already; written into after the start
        (access_drop / "badges.jsonl").write_text(BADGES)
        (access_drop / "broken.csv").write_text("store,door,kind\ns1,D-1,badge\n")
        wait_for(lambda: sum(s.done + s.quarantined for s in runner.ingest_statuses()) == 5, timeout_s=20)
        status = json.loads(_get(f"{runner.status.url}/status"))
        metrics = _get(f"{runner.status.url}/metrics")
        assert runner.database is not None
        pos_counts = PosRepository(runner.database).counts()
        access_events = AccessRepository(runner.database).events_between(["s1"], *DAY)
    finally:
        runner.stop()
    assert sorted(p.relative_to(pos_drop).as_posix() for p in pos_drop.rglob("*") if p.is_file()) == [
        "done/day1.xml", "quarantine/bad.csv", "quarantine/bad.csv.errors.json", "quarantine/day2.jsonl",
        "quarantine/day2.jsonl.errors.json", "writing.xml.part",
    ]  # fmt: skip
    errors = json.loads((pos_drop / "quarantine" / "day2.jsonl.errors.json").read_text())
    assert errors["accepted"] == 1 and errors["quarantined"][0]["path"] == "sequence"
    assert "unknown column(s) price" in json.loads((pos_drop / "quarantine" / "bad.csv.errors.json").read_text())[
        "quarantined"][0]["error"]  # fmt: skip
    assert pos_counts["transactions"] == 9 and pos_counts["quarantined"] == 2  # 8 + the good line; nothing lost
    assert (access_drop / "done" / "badges.jsonl").exists() and (access_drop / "quarantine" / "broken.csv").exists()
    assert [e.badge for e in access_events] == ["B7", "B8"]
    by_kind = {s["kind"]: s for s in status["sources"]}
    assert by_kind["pos-drop-folder"]["done"] == 1 and by_kind["pos-drop-folder"]["quarantined"] == 2
    assert by_kind["pos-drop-folder"]["records_accepted"] == 9 and by_kind["pos-drop-folder"]["health"] == "ok"
    assert by_kind["access-drop-folder"]["records_accepted"] == 2
    assert 'storewatch_ingest_documents_total{kind="pos-drop-folder",outcome="quarantined"' in metrics
    assert 'storewatch_ingest_health{kind="access-drop-folder"' in metrics


def test_a_failing_source_is_retried_with_backoff_then_taken_offline_then_recovers(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text("{}")
    database_up = False

    def ingest(path: Path) -> Report:
        if not database_up:
            raise ConnectionError("database unavailable")
        return Report(accepted=1)

    folder = DropFolder(tmp_path, ingest, settle_s=0.0)
    policy = RestartPolicy(max_restarts=2, window_s=60.0, cooldown_s=300.0, restart_initial_s=0.5)
    worker = IngestWorker("pos-drop:test", "pos-drop-folder", folder.poll_once, folder.counts, policy=policy)
    delays = [worker.run_once() for _ in range(2)]
    assert worker.status().health is Health.DEGRADED and "database unavailable; retry 2/2" in worker.status().reason
    assert 0.4 <= delays[0] < delays[1]
    assert worker.run_once() == 300.0  # a third failure within the window: offline until the cooldown
    offline = worker.status()
    assert offline.health is Health.OFFLINE and "failed 3 times in 60 s" in offline.reason and offline.failures == 3
    assert (tmp_path / "a.jsonl").exists()  # the file stays for the next try
    database_up = True
    assert worker.run_once() == 2.0
    after = worker.status()
    assert after.health is Health.OK and (after.done, after.records_accepted) == (1, 1)
    assert (tmp_path / "done" / "a.jsonl").exists()


def test_a_worker_runs_until_stopped(tmp_path: Path) -> None:
    calls = IngestCounts()

    def step() -> None:
        calls.done += 1

    worker = IngestWorker("x", "test", step, calls, interval_s=0.01).start()
    wait_for(lambda: calls.done >= 3)
    worker.stop()
    assert worker.status().health is Health.OFFLINE and worker.status().reason == "stopped"
