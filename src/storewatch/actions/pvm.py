"""Public-view monitor actions: the in-store screen of a camera (``/pvm/<camera>``) shows a message for a while.

The monitors themselves (state, latest frame, page) are ``runtime.pvm``; this module only tells them what to show,
through the small ``MonitorTarget`` protocol, so actions do not depend on the runtime.
"""

from __future__ import annotations

from typing import Protocol

from storewatch.actions.config import PvmAction
from storewatch.actions.executor import ActionError
from storewatch.actions.template import event_fields, render
from storewatch.core.events import Event
from storewatch.core.ids import CameraId


class MonitorTarget(Protocol):
    def show(self, camera: CameraId, message: str, detail: str, show_s: float, event_id: str | None) -> None:
        """Show ``message`` on the camera's monitor for ``show_s``; ``KeyError`` for a camera without one."""
        ...


class PvmExecutor:
    def __init__(self, config: PvmAction, monitors: MonitorTarget | None) -> None:
        self.config = config
        self.monitors = monitors

    def run(self, event: Event) -> str:
        cfg = self.config
        if self.monitors is None:
            raise ActionError("no public-view monitors run here")
        cameras = [CameraId(c) for c in cfg.cameras] or [event.camera]
        fields = event_fields(event, cfg.name)
        message, detail = render(cfg.message, fields), render(cfg.detail, fields)
        shown = []
        for camera in cameras:
            try:
                self.monitors.show(camera, message, detail, cfg.show_s, event.id)
            except KeyError:
                continue
            shown.append(camera)
        if not shown:
            raise ActionError(f"no public-view monitor for {', '.join(cameras)}")
        missing = sorted(set(cameras) - set(shown))
        rest = f"; no monitor for {', '.join(missing)}" if missing else ""
        return f"showing {message!r} on {', '.join(shown)} for {cfg.show_s:g} s{rest}"

    def close(self) -> None:
        pass
