"""ONVIF probing against a small ONVIF responder on 127.0.0.1 that checks WS-Security digests."""

from __future__ import annotations

import base64
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from storewatch.cameras.onvif import OnvifClient, OnvifError, password_digest
from storewatch.cli.app import main

USER, PASSWORD = "admin", "s3cret!"

PROFILES = """<trt:GetProfilesResponse>
<trt:Profiles token="main"><tt:Name>MainStream</tt:Name><tt:VideoEncoderConfiguration><tt:Encoding>H264</tt:Encoding>
<tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration>
</trt:Profiles>
<trt:Profiles token="sub"><tt:Name>SubStream</tt:Name><tt:VideoEncoderConfiguration><tt:Encoding>H264</tt:Encoding>
<tt:Resolution><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration>
</trt:Profiles></trt:GetProfilesResponse>"""


def envelope(body: str) -> bytes:
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
        f'xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body>{body}</s:Body></s:Envelope>'
    ).encode()


FAULT = envelope("<s:Fault><s:Reason><s:Text>Sender not Authorized</s:Text></s:Reason></s:Fault>")


class Responder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if not self._authorised(body):
            return self._send(400, FAULT)
        port = self.server.server_address[1]
        if "GetCapabilities" in body:
            media = f"http://127.0.0.1:{port}/onvif/media_service"
            xaddr = f"<tt:Media><tt:XAddr>{media}</tt:XAddr></tt:Media>"
            out = f"<tds:GetCapabilitiesResponse>{xaddr}</tds:GetCapabilitiesResponse>"
        elif "GetProfiles" in body:
            out = PROFILES
        elif "GetStreamUri" in body:
            token = re.search(r"<trt:ProfileToken>(.*?)</trt:ProfileToken>", body).group(1)
            out = f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://127.0.0.1:8554/{token}</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>"
        else:
            return self._send(400, FAULT)
        return self._send(200, envelope(out))

    def _authorised(self, body: str) -> bool:
        pattern = (
            r"<wsse:Username>(.*?)</wsse:Username>.*?>([^<]+)</wsse:Password>"
            r".*?<wsse:Nonce>(.*?)</wsse:Nonce>.*?<wsu:Created>(.*?)</wsu:Created>"
        )
        m = re.search(pattern, body, re.S)
        if not m:
            return False
        user, digest, nonce, created = m.groups()
        return user == USER and digest == password_digest(base64.b64decode(nonce), created, PASSWORD)

    def _send(self, code: int, payload: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/soap+xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def camera_address():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Responder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_profiles_and_stream_uris(camera_address):
    profiles = OnvifClient(camera_address, USER, PASSWORD).profiles()
    assert [(p.token, p.width, p.height, p.encoding) for p in profiles] == [
        ("main", 1920, 1080, "H264"),
        ("sub", 640, 360, "H264"),
    ]
    assert profiles[1].stream_uri == "rtsp://127.0.0.1:8554/sub"


def test_wrong_password_is_reported(camera_address):
    with pytest.raises(OnvifError, match="refused the request: Sender not Authorized"):
        OnvifClient(camera_address, USER, "wrong").profiles()


def test_unreachable_camera_is_reported():
    with pytest.raises(OnvifError, match="not reachable"):
        OnvifClient("127.0.0.1:9", USER, PASSWORD, timeout_s=1).profiles()


def test_cli_probe(camera_address, capsys):
    assert main(["cameras", "probe", camera_address, "--user", USER, "--password", PASSWORD]) == 0
    out = capsys.readouterr().out
    assert "rtsp://127.0.0.1:8554/main" in out and "1920x1080" in out
    assert main(["cameras", "probe", camera_address, "--user", USER, "--password", "nope"]) == 2
