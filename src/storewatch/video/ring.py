"""The last seconds of a camera's encoded video, kept in memory, and event clips cut from it without re-encoding.

An alert needs the moments *before* the event. Keeping encoded packets (not decoded frames) costs what the stream
costs — a few megabytes for 30 s of a typical camera — and a clip is written by copying packets into an MP4
(remuxing): no quality loss and almost no CPU. A clip starts at the key frame at or before the requested start,
because a decoder cannot start between key frames. The clip's codec parameters come from the live input stream,
so clips are cut while that stream is open (PyAV crashes on a closed one).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storewatch.errors import VideoError


@dataclass(frozen=True, slots=True)
class _Entry:
    t_s: float
    keyframe: bool
    packet: Any


class PacketRing:
    """Encoded packets of one video stream covering at least ``seconds`` (thread-safe)."""

    def __init__(self, seconds: float, *, max_packets: int = 100_000) -> None:
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        self.seconds = seconds
        self._entries: deque[_Entry] = deque(maxlen=max_packets)
        self._lock = threading.Lock()
        self.template: Any = None
        """The input stream the packets come from (codec parameters for the clip)."""

    def add(self, packet: Any) -> None:
        """Keep ``packet`` (a PyAV packet with pts); forget what is older than ``seconds`` before it, keeping
        the stream decodable from a key frame."""
        if packet.pts is None or packet.size == 0:
            return
        t = float(packet.pts * packet.time_base)
        with self._lock:
            if self.template is not packet.stream or (self._entries and t < self._entries[-1].t_s - 1.0):
                self._entries.clear()  # a new stream (reconnect, a file looping): its times start again
                self.template = packet.stream
            self._entries.append(_Entry(t, bool(packet.is_keyframe), packet))
            horizon = t - self.seconds
            # drop whole key-frame groups that end before the horizon
            while len(self._entries) > 1:
                next_key = next((i for i, e in enumerate(self._entries) if i > 0 and e.keyframe), None)
                if next_key is None or self._entries[next_key].t_s > horizon:
                    break
                for _ in range(next_key):
                    self._entries.popleft()

    @property
    def span_s(self) -> float:
        with self._lock:
            return self._entries[-1].t_s - self._entries[0].t_s if self._entries else 0.0

    def packets(self, start_s: float, end_s: float) -> list[Any]:
        """Packets from the last key frame at or before ``start_s`` up to ``end_s``."""
        with self._lock:
            entries = list(self._entries)
        keys = [i for i, e in enumerate(entries) if e.keyframe and e.t_s <= start_s]
        first = keys[-1] if keys else next((i for i, e in enumerate(entries) if e.keyframe), len(entries))
        return [e.packet for e in entries[first:] if e.t_s <= end_s]


def save_clip(ring: PacketRing, start_s: float, end_s: float, path: Path) -> int:
    """Write the ring's packets between ``start_s`` and ``end_s`` (stream seconds) to an MP4; returns the number
    of packets written. Raises ``VideoError`` when the ring holds nothing for that time."""
    import av

    packets = ring.packets(start_s, end_s)
    if not packets or ring.template is None:
        raise VideoError(f"no video buffered between {start_s:.1f} s and {end_s:.1f} s for {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream_from_template(ring.template)
        offset_pts = packets[0].dts if packets[0].dts is not None else packets[0].pts
        for src in packets:
            packet = av.Packet(bytes(src))
            packet.pts = src.pts - offset_pts if src.pts is not None else None
            packet.dts = src.dts - offset_pts if src.dts is not None else None
            packet.time_base = src.time_base
            packet.is_keyframe = src.is_keyframe
            packet.stream = stream
            out.mux(packet)
    tmp.replace(path)
    return len(packets)
