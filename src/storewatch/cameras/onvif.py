"""Reading a camera's stream addresses over ONVIF: profiles, resolutions, encodings and RTSP URIs.

Why our own small client: we need three SOAP calls (GetCapabilities, GetProfiles, GetStreamUri) with WS-Security
UsernameToken digests. The ONVIF client packages wrap zeep and ship or fetch the WSDL files; three fixed requests
and an XML parse are smaller than that dependency and easier to make fail clearly. No multicast discovery: the
address is given.
"""

from __future__ import annotations

import base64
import hashlib
import os
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from storewatch.errors import StorewatchError

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
}
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"


class OnvifError(StorewatchError):
    """The camera could not be reached or refused a request."""


@dataclass(frozen=True, slots=True)
class OnvifProfile:
    token: str
    name: str
    encoding: str
    width: int
    height: int
    stream_uri: str


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-Security PasswordDigest: base64(sha1(nonce + created + password)).

    >>> password_digest(b"0123456789abcdef", "2026-01-01T00:00:00Z", "secret")
    'AHdjPQqhLugJUej2bfmGQqPj3Vo='
    """
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def _envelope(body: str, username: str | None, password: str | None) -> bytes:
    header = ""
    if username is not None:
        nonce = os.urandom(16)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = password_digest(nonce, created, password or "")
        header = (
            f'<s:Header><wsse:Security xmlns:wsse="{_WSSE}" xmlns:wsu="{_WSU}"><wsse:UsernameToken>'
            f"<wsse:Username>{_escape(username)}</wsse:Username>"
            f'<wsse:Password Type="{_DIGEST}">{digest}</wsse:Password>'
            f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
            f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{NS["s"]}" xmlns:tds="{NS["tds"]}" '
        f'xmlns:trt="{NS["trt"]}" xmlns:tt="{NS["tt"]}">{header}<s:Body>{body}</s:Body></s:Envelope>'
    ).encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class OnvifClient:
    def __init__(self, address: str, username: str | None = None, password: str | None = None, timeout_s: float = 5.0):
        self.device_url = address if "://" in address else f"http://{address}/onvif/device_service"
        self.username, self.password, self.timeout_s = username, password, timeout_s

    def _call(self, url: str, body: str) -> ET.Element:
        request = urllib.request.Request(
            url, data=_envelope(body, self.username, self.password),
            headers={"Content-Type": "application/soap+xml; charset=utf-8"}, method="POST",
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            fault = _fault(payload)
            if fault is None:
                raise OnvifError(f"{url}: HTTP {exc.code} {exc.reason}") from None
            raise OnvifError(f"{url}: camera refused the request: {fault}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise OnvifError(f"{url}: camera not reachable ({reason})") from None
        try:
            return ET.fromstring(payload)
        except ET.ParseError as exc:
            raise OnvifError(f"{url}: the answer is not ONVIF XML ({exc})") from None

    def media_url(self) -> str:
        root = self._call(
            self.device_url, "<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>"
        )
        xaddr = root.find(".//tt:Media/tt:XAddr", NS)
        if xaddr is None or not (xaddr.text or "").strip():
            raise OnvifError(f"{self.device_url}: the camera reports no media service")
        return (xaddr.text or "").strip()

    def profiles(self) -> list[OnvifProfile]:
        """Every media profile with its resolution, encoding and RTSP stream URI (main stream first, usually)."""
        media = self.media_url()
        root = self._call(media, "<trt:GetProfiles/>")
        out = []
        for p in root.findall(".//trt:Profiles", NS):
            token = p.get("token", "")
            enc = p.find(".//tt:VideoEncoderConfiguration", NS)
            encoding = (enc.findtext("tt:Encoding", "", NS) if enc is not None else "") or "unknown"
            width = int((enc.findtext("tt:Resolution/tt:Width", "0", NS) if enc is not None else "0") or 0)
            height = int((enc.findtext("tt:Resolution/tt:Height", "0", NS) if enc is not None else "0") or 0)
            uri_root = self._call(
                media,
                "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>"
                f"<tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>{_escape(token)}"
                "</trt:ProfileToken></trt:GetStreamUri>",
            )
            uri = uri_root.findtext(".//tt:Uri", "", NS).strip()
            out.append(OnvifProfile(token, p.findtext("tt:Name", token, NS), encoding, width, height, uri))
        if not out:
            raise OnvifError(f"{media}: the camera reports no media profiles")
        return out


def _fault(payload: bytes) -> str | None:
    try:
        root = ET.fromstring(payload)
    except ET.ParseError:
        return None
    text = root.findtext(".//s:Reason/s:Text", None, NS)
    return text.strip() if text else None
