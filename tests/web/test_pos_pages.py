"""The till exception dashboard through the real app: the summary per cashier with the peer statistics, registers
and shifts, the list with the till's video, filters and their mistakes, a transaction's page, the CSV and PDF
downloads (audited), who may see it (``pos.view``) and tenancy: a user of one store never sees another's tills."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from storewatch.store.audit import AuditFilter, AuditLog
from storewatch.store.db import default_url, open_database
from storewatch.store.pos_reports import PosReportRepository
from storewatch.web.auth import hash_password
from storewatch.web.permissions import Role
from storewatch.web.users import UserRepository
from tests.web.conftest import login
from tests.web.pos_seed import OTHER_STORE_TX, SAMPLE_TX, tx_path
from tests.web.seed import GUARD, Seeded, add_event

Path_ = Callable[[tuple[str, str, int]], str]
S1_MANAGER = ("mara", "store one manager 1")


@pytest.fixture
def s1_manager(app_client: TestClient, seeded: Seeded) -> TestClient:
    with open_database(default_url(seeded.data_dir)) as db:
        UserRepository(db).create(S1_MANAGER[0], hash_password(S1_MANAGER[1]), Role.STORE_MANAGER, ["s1"])
    return login(app_client, S1_MANAGER)


@pytest.fixture
def path(seeded: Seeded) -> Callable[[tuple[str, str, int]], str]:
    """A seeded transaction's page (its key has the business day the seed gave it)."""
    return lambda tx: tx_path(seeded.data_dir, tx)


def test_the_dashboard_shows_cashiers_registers_shifts_and_the_list(admin: TestClient, path: Path_) -> None:
    page = admin.get("/pos/exceptions")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/pos/exceptions" class="nav-item active"' in html
    for text in ("Per cashier", "Per register", "Per shift", "Cashier 5", "raised", "Excessive voids", "Gran Via",
                 "Serrano", "Register 2", "Business day", "No till camera", "No video recorded",
                 "/pos/exceptions.csv?", "/pos/exceptions.pdf?", "4 peers"):  # fmt: skip
        assert text in html, text
    assert html.index("Cashier 5") < html.index("Cashier 1")  # the most exceptions first
    assert f'href="{path(SAMPLE_TX)}"' in html and 'class="pos-thumb"' in html  # the void's till snapshot


def test_filters_and_their_mistakes(admin: TestClient) -> None:
    only = admin.get("/pos/exceptions", params={"code": "no_sale"}).text
    assert only.count('class="card pos-item"') == 1 and "Drawer opened without a sale" in only
    cashier = admin.get("/pos/exceptions", params={"cashier": "E3", "store": "s1"}).text
    assert cashier.count('class="card pos-item"') == 1 and "without a receipt" in cashier
    empty = admin.get("/pos/exceptions", params={"from": "2001-01-01", "to": "2001-01-02"}).text
    assert "No exceptions" in empty
    for params, message in (({"from": "2026-13-01"}, "is not a date"), ({"code": "nope"}, "is not an exception code"),
                            ({"from": "2026-03-02", "to": "2026-03-01"}, "the period ends"),
                            ({"cashier": "a/b"}, "is not a POS id")):  # fmt: skip
        response = admin.get("/pos/exceptions", params=params)
        assert 400 <= response.status_code < 500 and message.lower() in response.text.lower(), (
            params,
            response.status_code,
        )


def test_a_transaction_beside_its_video(admin: TestClient, path: Path_) -> None:
    html = admin.get(path(SAMPLE_TX)).text
    assert html.count('class="line-void"') == 1 and html.count("line-voided") == 1
    assert "voids line 1" in html and "25.99 USD" in html and "Void line" in html
    assert 'class="snapshot"' in html and "Tills" in html  # the tills camera's snapshot at that time
    no_camera = admin.get(path(("9", "4", 3050))).text
    assert "is not mapped to a camera" in no_camera and "Refund without receipt" in no_camera
    assert admin.get(path(("9", "2", 999999))).status_code == 404
    assert admin.get(path(SAMPLE_TX).replace("/5000", "/x")).status_code == 422  # not a sequence number


def test_with_privacy_on_a_till_clip_is_shown_only_faces_blurred(
    admin: TestClient, seeded: Seeded, path: Path_
) -> None:
    page = path(("9", "2", 5001))
    key = page.removeprefix("/pos/transactions/")
    with open_database(default_url(seeded.data_dir)) as db:
        tx = PosReportRepository(db).transactions([key])[key]
        at = tx.end_utc - timedelta(seconds=20)
        add_event(db, seeded.data_dir, type_="behaviour.loitering", camera="s1/tills", at=at,
                  explanation="at the till", ended_after_s=30, route=None)  # fmt: skip
    html = admin.get(page).text
    assert 'action="/media/protect"' in html and "Blur faces and show the clip" in html
    assert "<video" not in html  # the original is never linked


def test_csv_and_pdf_downloads_are_audited(admin: TestClient, seeded: Seeded) -> None:
    got = admin.get("/pos/exceptions.csv", params={"store": "s1"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"].startswith('attachment; filename="storewatch-pos-exceptions-')
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert rows and {r["site_store"] for r in rows} == {"s1"}
    assert sum(r["code"] == "void_line" for r in rows) == 8 and any(r["camera"] == "s1/tills" for r in rows)
    pdf = admin.get("/pos/exceptions.pdf", params={"code": "void_line"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Filters: code void_line" in text and "Cashier 5" in text and "Gran Via" in text
    with open_database(default_url(seeded.data_dir)) as db:
        log = [e.public() for e in AuditLog(db).scan(AuditFilter())]
    exports = [(r["action"], r["target"], r["store"], r["detail"]["format"]) for r in log if r["action"] == "export"]
    assert exports == [("export", "pos_exceptions", "s1", "csv"), ("export", "pos_exceptions", None, "pdf")]


def test_a_user_of_one_store_never_sees_another_stores_tills(s1_manager: TestClient, path: Path_) -> None:
    html = s1_manager.get("/pos/exceptions").text
    assert "Cashier 5" in html and "S2X" not in html and "Serrano" not in html
    assert path(OTHER_STORE_TX) not in html
    assert s1_manager.get(path(OTHER_STORE_TX)).status_code == 404
    assert s1_manager.get("/pos/exceptions", params={"store": "s2"}).status_code == 404
    rows = list(csv.DictReader(io.StringIO(s1_manager.get("/pos/exceptions.csv").text)))
    assert rows and {r["store"] for r in rows} == {"9"}
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(s1_manager.get("/pos/exceptions.pdf").content)).pages)
    assert "S2X" not in text and "Serrano" not in text


def test_only_roles_with_pos_view_see_the_tills(app_client: TestClient) -> None:
    login(app_client, GUARD)
    assert app_client.get("/pos/exceptions").status_code == 403
    assert app_client.get("/pos/exceptions.csv").status_code == 403
    assert ">Tills</a>" not in app_client.get("/").text
