"""Public-view monitors: a screen in the store shows a camera live and, when an action fires, a calm message.

Per camera: the state (``live``, or ``message`` with its text until a time) and the latest JPEG of the camera.
Frames cost nothing while nobody watches: the detector thread's ``offer(camera, image)`` is a clock comparison
unless a monitor page has asked for the camera's frame or state in the last ``viewer_ttl_s``, and then it hands
over at most ``fps`` images a second (a reference, no copy); one encoder thread masks the camera's privacy zones,
scales the image down to ``max_width_px`` and encodes it. An image not yet encoded when a newer one arrives is
replaced (counted in ``dropped``).

The page (``page(camera)``) is one self-contained HTML file: no CDN, no framework. It shows the frame full screen
(``/pvm/<camera>/frame.jpg``, refreshed twice a second) and polls ``/pvm/<camera>/state`` each second; a message
fades in as a large card over the dimmed live image, so the person sees both the message and themselves.

>>> clock = [100.0]
>>> pvm = PublicViewMonitors({CameraId("s1/door"): MonitorSpec("Front door")}, clock=lambda: clock[0])
>>> pvm.route("door/state"), pvm.route("s1/door"), pvm.route("s1/door/frame.jpg"), pvm.route("s2/door")
(('s1/door', 'state'), ('s1/door', 'page'), ('s1/door', 'frame'), None)
>>> pvm.show(CameraId("s1/door"), "This area is monitored", "", 10.0, "e1")
>>> pvm.state(CameraId("s1/door")).mode.value
'message'
>>> clock[0] += 10.5
>>> pvm.state(CameraId("s1/door")).mode.value
'live'
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from storewatch.core.detections import Detections
from storewatch.core.ids import CameraId
from storewatch.privacy.protect import people_to_protect

log = logging.getLogger(__name__)

View = Literal["page", "frame", "state"]
_SUFFIXES: tuple[tuple[str, View], ...] = (("/frame.jpg", "frame"), ("/state", "state"))


class MonitorMode(StrEnum):
    LIVE = "live"
    MESSAGE = "message"


class MonitorState(BaseModel):
    """What ``/pvm/<camera>/state`` returns."""

    model_config = ConfigDict(frozen=True)

    camera: str = Field(description="store/camera")
    mode: MonitorMode
    message: str | None = None
    detail: str | None = None
    until_utc: datetime | None = Field(None, description="When the message goes (mode message).")
    remaining_s: float | None = None
    event_id: str | None = Field(None, description="The event whose action showed the message.")
    frame_age_s: float | None = Field(None, description="Age of the latest frame (None: none yet).")


@dataclass(frozen=True)
class MonitorSpec:
    """A camera's monitor: the name on the page and its privacy zones (polygons, normalised 0-1), masked."""

    name: str = ""
    privacy: Sequence[Sequence[tuple[float, float]]] = ()


@dataclass
class _Monitor:
    spec: MonitorSpec
    message: str = ""
    detail: str = ""
    event_id: str | None = None
    until_mono: float = float("-inf")
    until_utc: datetime | None = None
    jpeg: bytes | None = None
    frame_mono: float | None = None
    offered_mono: float = float("-inf")
    viewed_mono: float = float("-inf")


@dataclass
class _Pending:
    image: NDArray[np.uint8]
    at_mono: float
    tracks: Detections | None = None
    detections: Detections | None = None


Protect = Callable[[str, NDArray[np.uint8], Detections], NDArray[np.uint8]]
"""``privacy.site.SitePrivacy``: the camera's frame as a person may see it, given the people in it."""


class PublicViewMonitors:
    """``start()``, ``stop()``; ``offer`` (detector thread), ``show`` (actions), ``state``/``frame``/``page`` (HTTP)."""

    def __init__(
        self,
        cameras: Mapping[CameraId, MonitorSpec],
        *,
        fps: float = 2.0,
        viewer_ttl_s: float = 10.0,
        max_width_px: int = 1280,
        quality: int = 80,
        clock: Callable[[], float] = time.monotonic,
        protect: Protect | None = None,
    ) -> None:
        """``protect``: faces blurred (on the encoder thread) before the zones are masked and the frame encoded."""
        self._monitors = {cid: _Monitor(spec) for cid, spec in cameras.items()}
        self.protect = protect
        self.interval_s = 1.0 / fps
        self.viewer_ttl_s = viewer_ttl_s
        self.max_width_px, self.quality = max_width_px, quality
        self._clock = clock
        self._cond = threading.Condition()
        self._pending: dict[CameraId, _Pending] = {}
        self.encoded = self.dropped = self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lookup ----------------------------------------------------------------------------------------------------
    def resolve(self, name: str) -> CameraId | None:
        """The camera ``store/camera``, or ``camera`` alone when one store has it."""
        if name in self._monitors:
            return CameraId(name)
        found = [cid for cid in self._monitors if cid.split("/", 1)[-1] == name]
        return found[0] if len(found) == 1 else None

    def route(self, rest: str) -> tuple[CameraId, View] | None:
        """The camera and view of the path after ``/pvm/``: ``<camera>``, ``<camera>/frame.jpg``, ``<camera>/state``."""
        rest = rest.strip("/")
        if (whole := self.resolve(rest)) is not None:
            return whole, "page"
        for suffix, view in _SUFFIXES:
            if rest.endswith(suffix) and (camera := self.resolve(rest.removesuffix(suffix))) is not None:
                return camera, view
        return None

    # --- what actions do -------------------------------------------------------------------------------------------
    def show(self, camera: CameraId, message: str, detail: str, show_s: float, event_id: str | None) -> None:
        """Show ``message`` on the camera's monitor for ``show_s`` (a newer message replaces it); ``KeyError`` for a
        camera without a monitor."""
        monitor = self._monitors[camera]
        with self._cond:
            monitor.message, monitor.detail, monitor.event_id = message, detail, event_id
            monitor.until_mono = self._clock() + show_s
            monitor.until_utc = datetime.now(UTC) + timedelta(seconds=show_s)

    def clear(self, camera: CameraId) -> None:
        with self._cond:
            self._monitors[camera].until_mono = float("-inf")

    # --- the detector thread: keep it cheap --------------------------------------------------------------------
    def offer(
        self,
        camera: CameraId,
        image: NDArray[np.uint8],
        tracks: Detections | None = None,
        detections: Detections | None = None,
    ) -> bool:
        """Hand over the camera's newest image (with its tracks and detections: the people whose faces ``protect``
        blurs) if a monitor is watched and a frame is due; True if taken."""
        monitor = self._monitors.get(camera)
        if monitor is None:
            return False
        now = self._clock()
        if now - monitor.viewed_mono > self.viewer_ttl_s or now - monitor.offered_mono < self.interval_s:
            return False
        with self._cond:
            if camera in self._pending:
                self.dropped += 1
            self._pending[camera] = _Pending(image, now, tracks, detections)
            monitor.offered_mono = now
            self._cond.notify()
        return True

    # --- what the HTTP routes read ---------------------------------------------------------------------------------
    def state(self, camera: CameraId) -> MonitorState:
        monitor = self._monitors[camera]
        now = self._clock()
        with self._cond:
            monitor.viewed_mono = now
            age = None if monitor.frame_mono is None else round(max(0.0, now - monitor.frame_mono), 2)
            if monitor.until_mono <= now:
                return MonitorState(camera=camera, mode=MonitorMode.LIVE, frame_age_s=age)
            return MonitorState(
                camera=camera, mode=MonitorMode.MESSAGE, message=monitor.message, detail=monitor.detail or None,
                until_utc=monitor.until_utc, remaining_s=round(monitor.until_mono - now, 2),
                event_id=monitor.event_id, frame_age_s=age,
            )  # fmt: skip

    def frame(self, camera: CameraId) -> bytes | None:
        """The latest JPEG of the camera (None until one is encoded); asking counts as watching."""
        monitor = self._monitors[camera]
        with self._cond:
            monitor.viewed_mono = self._clock()
            return monitor.jpeg

    def page(self, camera: CameraId) -> str:
        """The monitor page of the camera (absolute links, so any path form of the camera works)."""
        monitor = self._monitors[camera]
        with self._cond:
            monitor.viewed_mono = self._clock()
        base = f"/pvm/{camera}"
        title = monitor.spec.name or str(camera)
        return (
            PAGE.replace("{title}", html.escape(f"Live view: {title}"))
            .replace("{state_url}", html.escape(f"{base}/state", quote=True))
            .replace("{frame_url}", html.escape(f"{base}/frame.jpg", quote=True))
        )

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {"encoded": self.encoded, "dropped": self.dropped, "failed": self.failed}

    # --- the encoder thread ------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._encode_loop, name="pvm-encoder", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _encode_loop(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending) or self._stop.is_set(), timeout=1.0)
                work, self._pending = self._pending, {}
            for camera, pending in work.items():
                try:
                    image = pending.image
                    if self.protect is not None:
                        people = people_to_protect(pending.tracks or Detections.empty(),
                                                   pending.detections or Detections.empty())  # fmt: skip
                        image = self.protect(str(camera), image, people)
                    jpeg = encode_frame(image, self._monitors[camera].spec.privacy, self.max_width_px, self.quality)
                except Exception:  # top of the loop: a bad frame must not end the monitors
                    log.exception("pvm: frame of %s not encoded", camera)
                    with self._cond:
                        self.failed += 1
                    continue
                with self._cond:
                    self._monitors[camera].jpeg, self._monitors[camera].frame_mono = jpeg, pending.at_mono
                    self.encoded += 1


def encode_frame(
    image: NDArray[np.uint8], privacy: Sequence[Sequence[tuple[float, float]]], max_width_px: int, quality: int
) -> bytes:
    """The JPEG of ``image`` (never changed), privacy zones filled, at most ``max_width_px`` wide.

    >>> img = np.full((60, 80, 3), 255, np.uint8)
    >>> out = cv2.imdecode(np.frombuffer(encode_frame(img, [[(0, 0), (0.5, 0), (0.5, 1), (0, 1)]], 40, 90),
    ...                    np.uint8), cv2.IMREAD_COLOR)
    >>> out.shape, int(out[15, 5].mean()) < 60, int(out[15, 35].mean()) > 200, int(img.min())
    ((30, 40, 3), True, True, 255)
    """
    height, width = image.shape[:2]
    if width > max_width_px:
        scale = max_width_px / width
        out = cv2.resize(image, (max_width_px, max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    else:
        out = image.copy() if privacy else image
    h, w = out.shape[:2]
    for polygon in privacy:
        points = np.array([[round(x * w), round(y * h)] for x, y in polygon], np.int32)
        cv2.fillPoly(out, [points], (32, 32, 32))
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"JPEG encoding failed for an image of shape {image.shape}")
    return bytes(buf)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
:root{color-scheme:dark}
html,body{margin:0;height:100%;background:#05080c;overflow:hidden;cursor:none;
  font-family:"Inter","Segoe UI",system-ui,-apple-system,"DejaVu Sans",sans-serif;-webkit-font-smoothing:antialiased}
#live{position:fixed;inset:0;width:100%;height:100%;object-fit:contain;transition:filter .8s ease}
body.msg #live{filter:brightness(.42) saturate(.6) blur(2px)}
#wait{position:fixed;inset:0;display:flex;align-items:center;justify-content:center;color:#8a99a8;
  font-size:clamp(18px,2.4vw,44px);letter-spacing:.02em}
#wait[hidden]{display:none}
#badge{position:fixed;top:3.5vh;left:3vw;display:flex;align-items:center;gap:.6em;padding:.5em 1.1em;
  border-radius:999px;background:rgba(5,8,12,.55);color:#f1f5f9;font-size:clamp(14px,1.5vw,30px);
  letter-spacing:.12em;text-transform:uppercase;font-weight:600}
#badge i{width:.65em;height:.65em;border-radius:50%;background:#ef4444;animation:pulse 2.4s ease-in-out infinite}
@keyframes pulse{0%,100%{opacity:1}50%{opacity:.35}}
#panel{position:fixed;left:50%;top:50%;width:min(78vw,1500px);box-sizing:border-box;padding:6vh 5vw 6.5vh;
  border-radius:clamp(16px,2vw,40px);background:rgba(13,37,58,.88);border-top:clamp(4px,.7vh,10px) solid #5eead4;
  box-shadow:0 3vh 10vh rgba(0,0,0,.55);color:#fff;text-align:center;opacity:0;
  transform:translate(-50%,-44%);transition:opacity .7s ease,transform .7s ease}
body.msg #panel{opacity:1;transform:translate(-50%,-50%)}
#panel svg{width:clamp(56px,7vw,150px);height:auto;color:#5eead4;margin-bottom:3vh}
#message{margin:0;font-size:clamp(34px,6vw,136px);font-weight:700;line-height:1.08;letter-spacing:-.015em;
  text-wrap:balance}
#detail{margin:3vh auto 0;max-width:90%;font-size:clamp(18px,2.5vw,56px);line-height:1.3;color:#cbe2f0}
#detail:empty{display:none}
</style></head>
<body data-state="{state_url}" data-frame="{frame_url}">
<img id="live" alt="">
<div id="wait">Connecting to the camera&hellip;</div>
<div id="badge"><i></i><span>Live</span></div>
<div id="panel" role="alert" aria-live="assertive">
<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"
 stroke-linejoin="round" aria-hidden="true"><path d="M2 7.5h13a1.5 1.5 0 0 1 1.5 1.5v6A1.5 1.5 0 0 1 15 16.5H2z"/>
<path d="m16.5 10.5 5-3v9l-5-3"/><circle cx="7" cy="12" r="2.2"/></svg>
<h1 id="message"></h1><p id="detail"></p></div>
<script>
(() => {
  const d = document.body.dataset, img = document.getElementById("live"), wait = document.getElementById("wait");
  const message = document.getElementById("message"), detail = document.getElementById("detail");
  let shown = null, lastFrame = 0;
  async function frame() {
    try {
      const r = await fetch(d.frame, {cache: "no-store"});
      if (r.ok) {
        const url = URL.createObjectURL(await r.blob());
        await new Promise((done) => { img.onload = done; img.onerror = done; img.src = url; });
        if (shown) URL.revokeObjectURL(shown);
        shown = url; lastFrame = Date.now(); wait.hidden = true;
      }
    } catch (e) { /* the server restarts or the network blinks: try again */ }
    if (lastFrame && Date.now() - lastFrame > 15000) { img.removeAttribute("src"); wait.hidden = false; }
    setTimeout(frame, 500);
  }
  async function state() {
    try {
      const r = await fetch(d.state, {cache: "no-store"});
      if (r.ok) {
        const s = await r.json(), on = s.mode === "message";
        if (on) { message.textContent = s.message; detail.textContent = s.detail || ""; }
        document.body.classList.toggle("msg", on);
      }
    } catch (e) { /* keep the last state */ }
    setTimeout(state, 1000);
  }
  frame(); state();
})();
</script>
</body></html>
"""
