"""The zone and rules editors against a real app and a real site file: saves change only what changed (comments,
order and flow style kept), keep a backup, are checked with the site schema (each problem next to its shape or
field, nothing written), refuse a stale version, reach the running cameras, and only administrators (and a
store's manager, for their stores) may make them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from storewatch.behaviour.rules.registry import RULES
from storewatch.config.loader import load_site_config
from storewatch.config.schema import SiteConfig
from storewatch.store import open_database, upgrade
from storewatch.store.db import default_url
from storewatch.web import create_app
from storewatch.web.auth import hash_password
from storewatch.web.rule_forms import FieldKind, field_specs, parse, show
from storewatch.web.site_file import guess_indent, version_of
from storewatch.web.users import Role, UserRepository
from tests.web.conftest import login, settings_for
from tests.web.seed import ADMIN, GUARD, Seeded

MANAGER = ("mo", "manager password 3")
SITE = """\
# Demo retail: the site file people keep.
site: {id: demo, name: Demo retail, timezone: Europe/Madrid}
stores:
  - id: s1
    name: Gran Via
    cameras:
      - id: door
        name: Main door
        source: /dev/null
        zones:
          # the phones table by the window
          - id: phones
            name: Phones
            kind: high_value
            polygon: [[0.10, 0.20], [0.40, 0.20], [0.40, 0.60]]
          - id: office
            kind: staff_only
            polygon: [[0.6, 0.1], [0.9, 0.1], [0.9, 0.4], [0.6, 0.4]]
            anchor: foot       # explicit, kept
      - {id: aisle-3, name: Aisle 3 electronics, source: /dev/null}
      - {id: tills, name: Tills, source: /dev/null}
  - id: s2
    name: Serrano
    timezone: Europe/Lisbon
    cameras:
      - {id: entrance, name: Entrance, source: /dev/null}

rules:
  loitering: {dwell_s: 90}        # long: people browse phones
  running: {zones: [phones]}
"""
GEOMETRY = "/api/v1/cameras/s1/door/geometry"


@pytest.fixture
def site_path(seeded: Seeded) -> Path:
    path = seeded.data_dir / "site.yaml"
    path.write_text(SITE)
    with open_database(default_url(seeded.data_dir)) as db:
        upgrade(db)
        UserRepository(db).create(MANAGER[0], hash_password(MANAGER[1]), Role.MANAGER, ["s1"])
    return path


@pytest.fixture
def applied() -> list[SiteConfig]:
    return []


@pytest.fixture
def client(seeded: Seeded, site_path: Path, applied: list[SiteConfig]) -> Iterator[TestClient]:
    settings = settings_for(seeded.data_dir, site_path=site_path)
    with TestClient(create_app(settings, on_site_saved=applied.append), follow_redirects=False) as c:
        yield c


def _shapes(client: TestClient) -> dict[str, Any]:
    geometry = client.get(GEOMETRY)
    assert geometry.status_code == 200, geometry.text
    data: dict[str, Any] = geometry.json()
    return data


def _body(
    data: dict[str, Any], zones: list[dict[str, Any]] | None = None, lines: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "version": data["version"],
        "zones": zones if zones is not None else [{"was": z["id"], "data": z} for z in data["zones"]],
        "lines": lines if lines is not None else [{"was": ln["id"], "data": ln} for ln in data["lines"]],
    }


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob("site.yaml.*.bak"))


# --- zones and lines ------------------------------------------------------------------------------------------------
def test_saving_a_new_zone_and_line_changes_only_their_lines_keeps_a_backup_and_reaches_the_cameras(
    client: TestClient, site_path: Path, applied: list[SiteConfig]
) -> None:
    login(client, ADMIN)
    data = _shapes(client)
    assert [z["id"] for z in data["zones"]] == ["phones", "office"] and data["can_edit"] and data["applies_live"]
    zones = [{"was": z["id"], "data": z} for z in data["zones"]]
    zones.append(
        {"was": None, "data": {"id": "tills-queue", "kind": "queue", "polygon": [[0.1, 0.7], [0.3, 0.7], [0.3, 0.9]]}}
    )
    line = {"id": "door-line", "kind": "entrance", "points": [[0.5, 0.5], [1.0, 0.5]], "direction_in": "right"}
    saved = client.put(GEOMETRY, json=_body(data, zones=zones, lines=[{"was": None, "data": line}]))
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["applied_live"] is True and "uses them now" in body["message"]
    assert body["version"] == version_of(site_path.read_bytes())
    [backup] = _backups(site_path)
    assert backup.name == body["backup"] and backup.read_text() == SITE
    new = site_path.read_text()
    added = "\n".join(
        [
            "          - id: tills-queue",
            "            kind: queue",
            "            polygon: [[0.1, 0.7], [0.3, 0.7], [0.3, 0.9]]",
            "        lines:",
            "          - id: door-line",
            "            kind: entrance",
            "            points: [[0.5, 0.5], [1.0, 0.5]]",
            "            direction_in: right",
        ]
    )
    anchor = "            anchor: foot       # explicit, kept\n"
    assert new == SITE.replace(anchor, anchor + added + "\n")  # comments, 0.10, flow cameras: all as they were
    site = load_site_config(site_path)
    assert [z.id for z in site.stores[0].cameras[0].zones] == ["phones", "office", "tills-queue"]
    assert applied and applied[-1] == site


def test_moving_and_renaming_a_zone_keeps_its_place_and_comment(client: TestClient, site_path: Path) -> None:
    login(client, ADMIN)
    data = _shapes(client)
    phones = {**data["zones"][0], "id": "phones-table", "polygon": [[0.1, 0.2], [0.45, 0.2], [0.45, 0.65]]}
    saved = client.put(
        GEOMETRY,
        json=_body(data, zones=[{"was": "phones", "data": phones}, {"was": "office", "data": data["zones"][1]}]),
    )
    # running watches "phones": renaming it breaks the rule, so the whole file is refused with the rule named
    assert saved.status_code == 422
    assert any("running" in g and "phones" in g for g in saved.json()["general"]), saved.json()
    assert site_path.read_text() == SITE and not _backups(site_path)
    client.post("/rules", data={"target": "site", "loitering.dwell_s": "90"})  # running's zones cleared
    data = _shapes(client)
    saved = client.put(
        GEOMETRY,
        json=_body(data, zones=[{"was": "phones", "data": phones}, {"was": "office", "data": data["zones"][1]}]),
    )
    assert saved.status_code == 200, saved.text
    text = site_path.read_text()
    assert (
        "          # the phones table by the window\n          - id: phones-table\n            name: Phones\n" in text
    )
    assert "polygon: [[0.1, 0.2], [0.45, 0.2], [0.45, 0.65]]" in text
    assert "            anchor: foot       # explicit, kept\n" in text


@pytest.mark.parametrize(
    ("polygon", "field", "message"),
    [
        ([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]], "polygon", "cross each other (a bow-tie)"),
        ([[0.1, 0.1], [1.2, 0.1], [0.5, 0.5]], "polygon", "outside the frame"),
        ([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]], "polygon", "has no area"),
        ([[0.1, 0.1], [0.2, 0.2]], "polygon", "at least 3"),
    ],
)
def test_a_bad_polygon_is_refused_with_the_problem_next_to_its_shape(
    client: TestClient, site_path: Path, polygon: list[list[float]], field: str, message: str
) -> None:
    login(client, ADMIN)
    data = _shapes(client)
    zones = [{"was": z["id"], "data": z} for z in data["zones"]]
    zones.append({"was": None, "data": {"id": "bad", "kind": "shelf", "polygon": polygon}})
    for method, url in (("POST", GEOMETRY + "/check"), ("PUT", GEOMETRY)):
        answer = client.request(method, url, json=_body(data, zones=zones))
        assert answer.status_code == (200 if method == "POST" else 422), answer.text
        check = answer.json()
        assert check["ok"] is False and check["general"] == []
        [problem] = check["problems"]
        assert (problem["shape"], problem["index"], problem["field"]) == ("zone", 2, field)
        assert message in problem["message"], problem
    assert site_path.read_text() == SITE and not _backups(site_path)


def test_shape_ids_kinds_and_lines_are_checked_too(client: TestClient) -> None:
    login(client, ADMIN)
    data = _shapes(client)
    zones = [{"was": z["id"], "data": z} for z in data["zones"]]
    zones.append({"was": None, "data": {**data["zones"][1], "id": "office"}})
    zones.append(
        {"was": None, "data": {"id": "Bad Id", "kind": "pantry", "polygon": [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]}}
    )
    lines = [{"was": None, "data": {"id": "l1", "points": [[0.5, 0.5], [0.5, 0.5]]}}]
    check = client.post(GEOMETRY + "/check", json=_body(data, zones=zones, lines=lines)).json()
    found = {(p["shape"], p["index"], p["field"]): p["message"] for p in check["problems"]}
    assert "has the id 'office'" in found[("zone", 2, "id")]
    assert "must be a slug" in found[("zone", 3, "id")] and "kind" in {f for _, i, f in found if i == 3}
    assert "the same" in found[("line", 0, "points")]


def test_a_save_over_a_newer_file_is_refused(client: TestClient, site_path: Path) -> None:
    login(client, ADMIN)
    data = _shapes(client)
    site_path.write_text(SITE.replace("name: Main door", "name: Front door"))  # someone edits by hand meanwhile
    answer = client.put(GEOMETRY, json=_body(data))
    assert answer.status_code == 409 and "changed since the editor opened it" in answer.json()["detail"]
    assert "Front door" in site_path.read_text()
    assert _shapes(client)["version"] == version_of(site_path.read_bytes())


def test_only_administrators_and_the_stores_managers_may_save(client: TestClient, site_path: Path) -> None:
    login(client, GUARD)  # a guard of s2 only
    assert client.get(GEOMETRY).status_code == 404  # s1 is not theirs
    entrance = "/api/v1/cameras/s2/entrance/geometry"
    data = client.get(entrance).json()
    assert data["can_edit"] is False
    refused = client.put(entrance, json=_body(data))
    assert refused.status_code == 403 and "role" in refused.json()["detail"]
    client.post("/logout")
    login(client, MANAGER)  # manager of s1
    data = _shapes(client)
    assert data["can_edit"] is True
    assert client.put(GEOMETRY, json=_body(data)).status_code == 200
    assert client.put(entrance, json={"zones": [], "lines": []}).status_code == 404
    site = client.post("/rules", data={"target": "site", "loitering.dwell_s": "30"})
    assert site.status_code == 403 and "only an administrator" in site.text
    camera = client.post("/rules", data={"target": "s1/door", "loitering.dwell_s": "30"})
    assert camera.status_code == 303, camera.text
    assert load_site_config(site_path).stores[0].cameras[0].rules == {"loitering": {"dwell_s": 30}}


def test_the_editor_page_embeds_the_shapes_and_says_who_may_change_them(client: TestClient) -> None:
    login(client, ADMIN)
    page = client.get("/cameras/s1/door/zones")
    assert page.status_code == 200
    embedded = re.search(r'<script type="application/json" id="geometry-data">(.*?)</script>', page.text, re.S)
    assert embedded and '"phones"' in embedded.group(1) and '"can_edit": true' in embedded.group(1)
    assert 'data-tool="zone"' in page.text and "only an administrator" not in page.text
    client.post("/logout")
    login(client, GUARD)
    read_only = client.get("/cameras/s2/entrance/zones").text
    assert "only an administrator or this store's manager can change them" in read_only
    assert 'data-tool="zone"' not in read_only


def test_without_a_site_file_the_editors_say_how_to_get_one(seeded: Seeded) -> None:
    with TestClient(create_app(settings_for(seeded.data_dir)), follow_redirects=False) as client:
        login(client, ADMIN)
        for url in ("/cameras/s1/door/zones", "/rules"):
            page = client.get(url)
            assert page.status_code == 409 and "storewatch serve --config SITE.yaml" in page.text, url
        assert client.get("/cameras").status_code == 200  # the cameras still show


# --- rules ----------------------------------------------------------------------------------------------------------
def test_site_rules_saved_in_place_with_the_comment_kept(client: TestClient, site_path: Path) -> None:
    login(client, ADMIN)
    page = client.get("/rules")
    assert page.status_code == 200
    assert f"{len(RULES)} of {len(RULES)} rules on" in page.text
    assert 'name="loitering.dwell_s" inputmode="decimal" value="90"' in page.text
    form = {
        "target": "site",
        "loitering.dwell_s": "45",
        "fight.enabled": "false",
        "crowding.zone_max_people": "office=2",
    }
    saved = client.post("/rules", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/rules?target=site&notice=rules_live"
    text = site_path.read_text()
    assert "  loitering: {dwell_s: 45}        # long: people browse phones\n" in text
    assert "running:" not in text  # emptied: removed
    assert "  fight: {enabled: false}\n" in text and "  crowding: {zone_max_people: {office: 2}}\n" in text
    after = client.get(saved.headers["location"]).text
    assert "the cameras use them now" in after and f"{len(RULES) - 1} of {len(RULES)} rules on" in after


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("loitering.dwell_s", "-5", "greater than 0"),
        ("loitering.dwell_s", "soon", "valid number"),
        ("queue.max_length", "2.5", "valid integer"),
        ("loitering.severity", "urgent", "Input should be"),
        ("loitering.zones", "phones, nowhere", "nowhere"),
        ("restricted_area.armed", "night", "night"),
        ("crowding.zone_max_people", "office:2", "zone=number"),
    ],
)
def test_a_bad_setting_is_shown_next_to_its_field_and_nothing_is_saved(
    client: TestClient, site_path: Path, field: str, value: str, message: str
) -> None:
    login(client, ADMIN)
    answer = client.post("/rules", data={"target": "site", "loitering.dwell_s": "90", field: value})
    assert answer.status_code == 422, answer.text
    error = re.search(rf'<p class="field-error" id="{re.escape(field)}-error" role="alert">([^<]*)</p>', answer.text)
    assert error and message in error.group(1), (field, error and error.group(1))
    assert f'aria-describedby="{field}-error"' in answer.text
    if not field.endswith(("severity", "enabled")):  # a choice cannot show a value it does not offer
        assert f'value="{value}"' in answer.text
    assert site_path.read_text() == SITE and not _backups(site_path)


def test_camera_overrides_inherit_from_the_site_and_show_what_they_change(client: TestClient, site_path: Path) -> None:
    login(client, ADMIN)
    page = client.get("/rules?target=s1/door").text
    assert 'placeholder="90"' in page and "Site: on" in page  # what the camera gets from the site
    saved = client.post("/rules", data={"target": "s1/door", "loitering.enabled": "false", "loitering.dwell_s": ""})
    assert saved.status_code == 303
    cam = yaml.safe_load(site_path.read_text())["stores"][0]["cameras"][0]
    assert cam["rules"] == {"loitering": {"enabled": False}}
    shown = client.get("/rules?target=s1/door").text
    assert re.search(r'id="rule-loitering".*?<span class="badge state-false_alarm">Off</span>', shown, re.S)
    assert client.get("/rules?target=s9/nowhere").status_code == 404


# --- units ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_setting_shown_in_the_form_reads_back_as_the_same_value(rule: str) -> None:
    """A form shows each default as text; that text parsed and validated by the rule's model is the default again
    (so an untouched field never changes a setting), and every setting has a described input."""
    config = RULES[rule].Config
    for spec in field_specs(config):
        assert spec.description, (rule, spec.name)
        assert spec.kind in FieldKind
        if spec.default is None or spec.default in ([], {}):
            continue
        text = show(spec, spec.default)
        value = config.model_validate({spec.name: parse(spec, text)})
        assert getattr(value, spec.name) == spec.default, (rule, spec.name, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n  b: 1\nc:\n  - d: 1\n", (2, 4, 2)),
        ("a:\n    b: 1\nc:\n- d: 1\n", (4, 2, 0)),
        ("a:\n    b: 1\nc:\n    -   d: 1\n", (4, 8, 4)),
        ("a: 1\n", (2, 4, 2)),
    ],
)
def test_the_files_own_indentation_is_kept(text: str, expected: tuple[int, int, int]) -> None:
    assert guess_indent(text) == expected


def _record_standing(data_dir: Path, camera: str, seconds: int) -> None:
    """A recorded camera-day: one person standing in the door camera's phones zone for ``seconds`` at 5 fps."""
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from storewatch.core.detections import Detections
    from storewatch.runtime.trackrec import TrackRecorder

    rec = TrackRecorder(data_dir / "tracks", camera)
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for i in range(5 * seconds):
        box = Detections(np.array([[230, 120, 250, 200]]), [0.9], [0], [4])
        rec.add(t0 + timedelta(seconds=i / 5), box, (640, 480))
    rec.close()


def test_trying_rule_settings_on_recorded_days_runs_a_backtest_job_and_saves_nothing(
    client: TestClient, seeded: Seeded, site_path: Path
) -> None:
    _record_standing(seeded.data_dir, "s1/door", 120)
    login(client, ADMIN)
    before = site_path.read_text()
    version = client.get(GEOMETRY).json()["version"]
    tried = client.post("/rules/backtest", data={"target": "site", "version": version, "loitering.dwell_s": "150"})
    assert tried.status_code == 303 and tried.headers["location"].startswith("/jobs/"), tried.text
    job_id = tried.headers["location"].rsplit("/", 1)[-1]
    for _ in range(200):
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert job["state"] == "done", job
    page = client.get(f"/jobs/{job_id}").text
    assert "Events per camera-day" in page and "1 camera-days replayed" in page
    outcome = client.get(job["file_url"]).json()
    loitering = next(r for r in outcome["rules"] if r["rule"] == "loitering")
    assert (loitering["current_per_camera_day"], loitering["candidate_per_camera_day"]) == (1.0, 0.0)
    assert site_path.read_text() == before, "a backtest saves nothing"


def test_a_backtest_without_recorded_days_or_with_a_bad_setting_says_why(client: TestClient) -> None:
    login(client, ADMIN)
    version = client.get(GEOMETRY).json()["version"]
    none = client.post("/rules/backtest", data={"target": "site", "version": version})
    assert none.status_code == 409 and "no recorded track history" in none.text
    bad = client.post("/rules/backtest", data={"target": "site", "version": version, "loitering.dwell_s": "-5"})
    assert bad.status_code == 422 and "greater than 0" in bad.text


def test_saves_are_recorded_in_the_audit_log(client: TestClient, seeded: Seeded) -> None:
    from storewatch.store.audit import AuditFilter, AuditLog

    login(client, ADMIN)
    data = _shapes(client)
    assert client.put(GEOMETRY, json=_body(data)).status_code == 200
    assert client.post("/rules", data={"target": "s1/door", "loitering.dwell_s": "60"}).status_code == 303
    with open_database(default_url(seeded.data_dir)) as db:
        rows = [(e.actor, e.store, e.target, e.details["what"]) for e in AuditLog(db).list(
            AuditFilter(action="config_change"), newest_first=False)]  # fmt: skip
    assert rows == [("ana", "s1", "camera:s1/door", "zones and lines"), ("ana", "s1", "rules:s1/door", "rules")]
