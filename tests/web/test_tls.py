"""``storewatch serve --tls-cert --tls-key``: HTTPS with a self-signed certificate made here, cookies HTTPS only."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import login_form
from tests.web.seed import ADMIN, Seeded
from tests.web.server import STOREWATCH, serve

OPENSSL = shutil.which("openssl")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    if OPENSSL is None:
        pytest.skip("the openssl command is not installed (needed to make a test certificate)")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_serve_over_https_sets_secure_cookies(seeded: Seeded, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    args = ("--config", str(seeded.data_dir / "site.yaml"), "--tls-cert", str(cert), "--tls-key", str(key))
    with serve(seeded.data_dir, *args, https=True) as server:
        assert server.url.startswith("https://") and "storewatch serve: https://" in server.output()
        with httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=cert), timeout=10) as client:
            response = login_form(client, {"username": ADMIN[0], "password": ADMIN[1], "next": "/"})
            assert response.status_code == 303, response.text
            session = [c for c in response.headers.get_list("set-cookie") if "HttpOnly" in c]
            assert session and all("Secure" in c for c in session), session
            assert client.get("/api/v1/me").json()["username"] == ADMIN[0]
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port: no answer
            httpx.get(server.url.replace("https://", "http://") + "/healthz", timeout=5)


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STOREWATCH), "serve", *args], capture_output=True, text=True, timeout=60)


def test_serve_needs_both_the_certificate_and_its_key(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    only_cert = _serve("--data-dir", str(tmp_path / "d"), "--tls-cert", str(cert))
    assert only_cert.returncode == 2 and "--tls-cert needs --tls-key" in only_cert.stderr, only_cert.stderr
    only_key = _serve("--data-dir", str(tmp_path / "d"), "--tls-key", str(key))
    assert only_key.returncode == 2 and "--tls-key needs --tls-cert" in only_key.stderr
    missing = _serve("--data-dir", str(tmp_path / "d"), "--tls-cert", str(cert), "--tls-key", str(tmp_path / "no.pem"))
    assert missing.returncode == 2 and f"--tls-key {tmp_path / 'no.pem'}: cannot read it" in missing.stderr
    swapped = _serve("--data-dir", str(tmp_path / "d"), "--tls-cert", str(key), "--tls-key", str(key))
    assert swapped.returncode == 2 and "not a PEM certificate and its private key" in swapped.stderr
    assert "Traceback" not in only_cert.stderr + missing.stderr + swapped.stderr
