"""From a live camera to a verified evidence pack, through ``storewatch run``'s parts and the CLI a person uses.

The sample camera (PETS, looped live) with the real detector and a staff-only zone across the walkway: a person
walks in -> the restricted-area rule fires -> a signed webhook arrives on 127.0.0.1 -> its snapshot link gives a
real JPEG -> the acknowledge link is used (page, then the button's POST) -> the incident, opened by itself, is
acknowledged by that -> an investigator resolves it from the CLI while the camera keeps running -> the event's
clip arrives -> the incident's evidence pack is exported and verifies, with snapshot, clip, record, PDF, and a
chain of custody that names the export.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import ProxyHandler, build_opener

import cv2
import numpy as np
import pytest

from storewatch.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from storewatch.cli.app import main
from storewatch.config.schema import SiteConfig
from storewatch.detect.gated import WindowDetector
from storewatch.incidents.pack import verify_pack
from storewatch.incidents.workflow import Incident, IncidentState
from storewatch.runtime.runner import SiteRunner
from storewatch.store import EventRepository
from storewatch.store.incidents import IncidentRepository
from tests.alerts.servers import Receiver
from tests.helpers import wait_for

pytestmark = [pytest.mark.models, pytest.mark.shared]

SECRET = "e2e-webhook-secret-0123"


@pytest.fixture(scope="module")
def detector() -> WindowDetector:
    from storewatch.analysis.tracking import open_detector
    from storewatch.detect.config import DetectorConfig
    from storewatch.errors import ModelError

    try:
        return open_detector(DetectorConfig())
    except ModelError as exc:
        pytest.skip(f"{exc} (make setup obtains the models)")


def site_for(video: Path, data: Path, hook: str) -> SiteConfig:
    from storewatch.behaviour.rules.registry import RULES

    rules: dict[str, dict[str, object]] = {name: {"enabled": False} for name in RULES}
    rules["restricted_area"] = {"enabled": True, "min_inside_s": 1.0}
    zone = {"id": "stockroom", "kind": "staff_only", "polygon": [[0.0, 0.35], [1.0, 0.35], [1.0, 1.0], [0.0, 1.0]]}
    return SiteConfig.model_validate({
        "site": {"id": "e2e"},
        "stores": [{"id": "s1", "cameras": [{"id": "floor", "source": str(video), "zones": [zone],
                                             "tampering": {"enabled": False}}]}],
        "rules": rules,
        "alerts": {"channels": [{"kind": "webhook", "name": "lp-desk", "url": hook, "secret": SECRET}]},
        "runtime": {"data_dir": str(data), "status_port": 0, "clip_before_s": 2, "clip_after_s": 2},
    })  # fmt: skip


def test_live_camera_to_a_verified_evidence_pack(
    pets_video: Path, detector: WindowDetector, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = Receiver().start()
    data = tmp_path / "data"
    runner = SiteRunner(site_for(pets_video, data, f"{receiver.url}/hook"), detector)
    opener = build_opener(ProxyHandler({}))
    started = time.monotonic()
    runner.start()
    try:
        # 1. the rule fires and the webhook arrives, signed
        wait_for(lambda: any(json.loads(r.body)["type"] == "restricted_area" for r in receiver.requests), 60)
        hook = next(r for r in receiver.requests if json.loads(r.body)["type"] == "restricted_area")
        alert = json.loads(hook.body)
        print(f"\nalert received {time.monotonic() - started:.1f} s after start: {alert['text']}")
        assert verify_signature(hook.body, hook.headers[SIGNATURE_HEADER], SECRET, hook.headers[TIMESTAMP_HEADER])
        assert alert["state"] == "started" and alert["camera"] == "s1/floor" and alert["zone"] == "stockroom"

        # 2. the snapshot link downloads a real JPEG (once the writer has written it)
        def fetch(url: str) -> bytes | None:
            try:
                return bytes(opener.open(url, timeout=5).read())
            except OSError:
                return None

        wait_for(lambda: fetch(alert["links"]["snapshot"]) is not None, 10)
        jpeg = fetch(alert["links"]["snapshot"])
        assert jpeg is not None and jpeg[:3] == b"\xff\xd8\xff"
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape == (576, 768, 3)

        # 3. acknowledged through the signed link: the page, then its button
        ack = alert["links"]["ack"]
        assert "<form" in opener.open(ack, timeout=5).read().decode()
        token = ack.split("token=", 1)[1]
        done = opener.open(ack.split("?")[0], data=f"token={token}".encode(), timeout=5).read().decode()
        assert "Acknowledged after" in done

        # 4. the incident opened by itself and the acknowledgement reached it
        assert runner.database is not None
        incidents = IncidentRepository(runner.database)

        def incident() -> Incident | None:
            ids = incidents.for_event(alert["event_id"])
            return incidents.get(ids[0]) if ids else None

        wait_for(lambda: getattr(incident(), "state", None) == IncidentState.ACKNOWLEDGED, 10)
        case = incident()
        assert case is not None and case.camera == "s1/floor" and case.zone == "stockroom"

        # 5. an investigator resolves it from the CLI while the camera keeps running
        args = ["--data-dir", str(data)]
        assert main(["incidents", "note", case.id[:8], "staff member without badge", "--by", "ana", *args]) == 0
        assert main(["incidents", "resolve", case.id, "--by", "ana", *args]) == 0
        assert incidents.get(case.id).state == IncidentState.RESOLVED  # type: ignore[union-attr]

        # 6. the clip is cut once the seconds after the event have passed
        events = EventRepository(runner.database)
        wait_for(lambda: "clip" in getattr(events.get(alert["event_id"]), "evidence", {}), 20)

        # 6b. the alert's clip link plays the clip with faces blurred: first a page saying it is being prepared
        try:
            opener.open(alert["links"]["clip"], timeout=5)
            raise AssertionError("the first open of a clip link should say it is being prepared")
        except HTTPError as exc:
            assert exc.code == 503 and b"Faces are being blurred" in exc.read()
        wait_for(lambda: fetch(alert["links"]["clip"]) is not None, 120)
        with opener.open(alert["links"]["clip"], timeout=5) as reply:
            assert reply.headers["Content-Type"] == "video/mp4" and len(reply.read()) > 1000
    finally:
        runner.stop()
        receiver.stop()

    # 7. the evidence pack: exported, verified, complete, and the export is in the chain of custody
    pack = tmp_path / "pack.zip"
    assert main(["incidents", "export", "--incident", case.id, "--out", str(pack), "--by", "ana", *args]) == 0
    assert main(["incidents", "verify", str(pack)]) == 0
    check = verify_pack(pack)
    assert check.ok, check.problems
    with zipfile.ZipFile(pack) as z:
        names = set(z.namelist())
        record = json.loads(z.read("incident.json"))
        custody = json.loads(z.read("custody.json"))
    evidence = {n for n in names if n.startswith("evidence/")}
    clip_suffix = Path(alert["links"]["clip"].split("?")[0]).suffix  # PETS is MS-MPEG4: Matroska, not MP4
    assert clip_suffix == ".mkv" and any(n.endswith(".jpg") for n in evidence), evidence
    assert f"evidence/{alert['event_id']}.protected.mp4" in evidence  # the alert's clip, faces blurred
    assert f"evidence/{alert['event_id']}{clip_suffix}" not in evidence  # never the original
    assert {"summary.pdf", "manifest.json", "SHA256SUMS"} <= names
    assert record["state"] == "resolved" and alert["event_id"] in [e["id"] for e in record["events"]]
    kinds = [t["kind"] for t in record["timeline"]]
    assert kinds[0] == "opened" and kinds.index("acknowledged") < kinds.index("note") < kinds.index("resolved"), kinds
    assert "evidence" in kinds  # snapshot and clip saved, on the record
    assert [c["action"] for c in custody] == ["created", "exported"]
    print(f"pack: {len(evidence)} evidence files, {len(record['events'])} events, timeline {kinds}")
