"""The last seconds of a camera's encoded video, kept in memory, and event clips cut from it without re-encoding.

An alert needs the moments *before* the event. Keeping encoded packets (not decoded frames) costs what the stream
costs — a few megabytes for 30 s of a typical camera — and a clip is written by copying packets into a file
(remuxing): no quality loss and almost no CPU. A clip starts at the key frame at or before the requested start,
because a decoder cannot start between key frames.

Clips do not depend on the input: ``PacketCapture`` copies each packet's bytes and times and the few stream facts a
file needs (``StreamInfo``) when the packet arrives, so a clip can be cut after the camera has reconnected or the
input has closed. No PyAV stream object is kept (PyAV crashes on a stream whose container is closed).

H.264 and H.265 are kept in Annex-B form (start codes, as RTSP and MPEG-TS deliver them), with the parameter sets
(SPS/PPS, and VPS for H.265) in front of every key frame. Packets from MP4/Matroska inputs (length-prefixed, with
the parameter sets in ``avcC``/``hvcC`` extradata) are converted to that form on capture. The MP4 muxer then does
the rest: PyAV extracts the parameter sets of the first key frame into the stream's extradata, and FFmpeg's MP4
muxer builds the ``avcC``/``hvcC`` box from them and writes each packet length-prefixed, as MP4 requires. One
stored form means a clip or a recording segment can start at any key frame, whatever the input was, and a change
of parameters at a key frame (a camera changing resolution) is carried along. The NAL-unit handling is written
here because FFmpeg has no Annex-B-to-MP4 bitstream filter to call (its MP4 muxer does the conversion itself, but
needs the parameter sets in the first packet when, as here, the output stream has no codec context).

Codecs the MP4 muxer does not accept (e.g. the MS-MPEG-4 of the PETS sample AVI) are remuxed into Matroska
(``.mkv``) instead: still no re-encoding.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from storewatch.errors import VideoError

_START_CODE = b"\x00\x00\x00\x01"
_PARAMETER_SET_TYPES = {"h264": frozenset({7, 8}), "hevc": frozenset({32, 33, 34})}
_SPS_TYPE = {"h264": 7, "hevc": 33}
_HEADER_IN_BITSTREAM = frozenset({"mpeg4", "mpeg1video", "mpeg2video"})
"""Codecs whose extradata is bitstream headers that may be repeated in front of a key frame."""


# FFmpeg's Matroska muxer runs the extract_extradata filter on every stream and, for codecs it does not know
# (MS-MPEG4 cameras, e.g. the PETS sample), logs a 15-line error per clip although the clip is written and plays:
# noise that would alarm whoever reads the logs. Real muxing failures still raise VideoError.
logging.getLogger("libav.extract_extradata").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a file needs to know about a video stream, copied from it (never a reference to a PyAV object).

    ``extradata`` is in the form the packets are in: for H.264/H.265 the Annex-B parameter sets."""

    codec: str
    width: int
    height: int
    time_base: Fraction
    extradata: bytes = b""


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One encoded packet: its bytes, times in ``info.time_base`` units, and whether a decoder can start at it."""

    data: bytes
    pts: int | None
    dts: int | None
    keyframe: bool
    info: StreamInfo
    duration: int = 0

    @property
    def t_s(self) -> float:
        """Presentation time in stream seconds (decode time when the packet has no presentation time)."""
        ts = self.pts if self.pts is not None else self.dts
        return float((ts or 0) * self.info.time_base)


class PacketCapture:
    """Turns PyAV packets into ``EncodedPacket`` records and hands them to sinks (a ring, a recorder).

    Use it as ``VideoSource(..., on_packet=PacketCapture(ring.add, recorder.add))``. Empty packets and packets
    without times are dropped."""

    def __init__(self, *sinks: Callable[[EncodedPacket], None]) -> None:
        self._sinks = sinks
        self._key: tuple[Any, ...] | None = None
        self._info: StreamInfo | None = None
        self._length_size = 0
        self._parameter_sets = b""

    def __call__(self, packet: Any) -> None:
        record = self.convert(packet)
        if record is not None:
            for sink in self._sinks:
                sink(record)

    def convert(self, packet: Any) -> EncodedPacket | None:
        """The record of a PyAV ``packet`` (None for an empty or untimed one)."""
        if packet.size == 0 or (packet.pts is None and packet.dts is None):
            return None
        ctx = packet.stream.codec_context
        key = (ctx.name, ctx.width, ctx.height, Fraction(packet.time_base), bytes(ctx.extradata or b""))
        if key != self._key:
            self._key = key
            self._info, self._length_size, self._parameter_sets = _normalised_info(*key)
        assert self._info is not None
        data = bytes(packet)
        keyframe = bool(packet.is_keyframe)
        codec = self._info.codec
        if self._length_size:
            data = length_prefixed_to_annexb(data, self._length_size)
        if keyframe and self._parameter_sets:
            if codec in _SPS_TYPE:
                if _SPS_TYPE[codec] not in annexb_nal_types(data, codec):
                    data = _insert_after_delimiter(data, self._parameter_sets, codec)
            elif not data.startswith(self._parameter_sets):
                data = self._parameter_sets + data
        return EncodedPacket(data, packet.pts, packet.dts, keyframe, self._info, int(packet.duration or 0))


_AUD_TYPE = {"h264": 9, "hevc": 35}
"""The access unit delimiter, which must stay the first NAL unit of an access unit (parameter sets go after it:
a decoder seeing them before it takes them for the end of the previous access unit)."""


def _insert_after_delimiter(data: bytes, parameter_sets: bytes, codec: str) -> bytes:
    """``parameter_sets`` (Annex-B) put in front of the access unit ``data``, after its delimiter if it has one.

    >>> _insert_after_delimiter(b"\\x00\\x00\\x00\\x01\\x09\\xf0\\x00\\x00\\x00\\x01\\x65", b"<ps>", "h264")
    b'\\x00\\x00\\x00\\x01\\t\\xf0<ps>\\x00\\x00\\x00\\x01e'
    """
    start = 4 if data.startswith(b"\x00\x00\x00\x01") else 3 if data.startswith(b"\x00\x00\x01") else 0
    if not start or len(data) <= start:
        return parameter_sets + data
    nal_type = data[start] & 0x1F if codec == "h264" else (data[start] >> 1) & 0x3F
    if nal_type != _AUD_TYPE.get(codec):
        return parameter_sets + data
    following = data.find(b"\x00\x00\x01", start)
    if following < 0:
        return data + parameter_sets
    if data[following - 1] == 0:
        following -= 1  # a four-byte start code
    return data[:following] + parameter_sets + data[following:]


def _normalised_info(
    codec: str, width: int, height: int, time_base: Fraction, extradata: bytes
) -> tuple[StreamInfo, int, bytes]:
    """The stream facts as stored, the NAL length size to convert packets from (0: none) and the bytes to put in
    front of a key frame that lacks its headers."""
    length_size, parameter_sets = 0, b""
    if codec in _PARAMETER_SET_TYPES and extradata:
        if extradata[0] == 1:  # avcC / hvcC: length-prefixed packets
            length_size, nals = (_avcc if codec == "h264" else _hvcc)(extradata)
            parameter_sets = b"".join(_START_CODE + nal for nal in nals)
        else:
            parameter_sets = extradata
        extradata = parameter_sets
    elif codec in _HEADER_IN_BITSTREAM:
        parameter_sets = extradata
    return StreamInfo(codec, width, height, time_base, extradata), length_size, parameter_sets


def _avcc(extra: bytes) -> tuple[int, list[bytes]]:
    """NAL length size and parameter sets (SPS, PPS) of an ``AVCDecoderConfigurationRecord``."""
    length_size = (extra[4] & 3) + 1
    nals, pos = [], 5
    for count_mask in (0x1F, 0xFF):  # SPS count (5 bits), then PPS count
        count, pos = extra[pos] & count_mask, pos + 1
        for _ in range(count):
            size = int.from_bytes(extra[pos : pos + 2], "big")
            nals.append(extra[pos + 2 : pos + 2 + size])
            pos += 2 + size
    return length_size, nals


def _hvcc(extra: bytes) -> tuple[int, list[bytes]]:
    """NAL length size and parameter sets (VPS, SPS, PPS, SEI) of an ``HEVCDecoderConfigurationRecord``."""
    length_size = (extra[21] & 3) + 1
    nals, pos = [], 23
    for _ in range(extra[22]):
        count, pos = int.from_bytes(extra[pos + 1 : pos + 3], "big"), pos + 3
        for _ in range(count):
            size = int.from_bytes(extra[pos : pos + 2], "big")
            nals.append(extra[pos + 2 : pos + 2 + size])
            pos += 2 + size
    return length_size, nals


def length_prefixed_to_annexb(data: bytes, length_size: int) -> bytes:
    """NAL units prefixed by their big-endian length (MP4 form) rewritten with start codes (Annex-B form).

    >>> length_prefixed_to_annexb(bytes([0, 0, 0, 2, 0x67, 0xAA, 0, 0, 0, 1, 0x68]), 4).hex()
    '0000000167aa0000000168'
    """
    out, pos = [], 0
    while pos + length_size <= len(data):
        size = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        out.append(_START_CODE + data[pos : pos + size])
        pos += size
    return b"".join(out)


def annexb_nal_types(data: bytes, codec: str) -> set[int]:
    """The NAL unit types in Annex-B ``data`` of an H.264 (``h264``) or H.265 (``hevc``) stream.

    >>> sorted(annexb_nal_types(bytes.fromhex("0000000167aa00000168bb0000016588"), "h264"))
    [5, 7, 8]
    """
    types, pos = set(), data.find(b"\x00\x00\x01")
    while 0 <= pos < len(data) - 3:
        header = data[pos + 3]
        types.add(header & 0x1F if codec == "h264" else (header >> 1) & 0x3F)
        pos = data.find(b"\x00\x00\x01", pos + 3)
    return types


@functools.cache
def container_for(codec: str) -> tuple[str, str]:
    """The FFmpeg format and file suffix a stream of ``codec`` is remuxed into: MP4 when the MP4 muxer accepts
    the codec, Matroska (which accepts any) otherwise.

    >>> container_for("h264"), container_for("msmpeg4")
    (('mp4', '.mp4'), ('matroska', '.mkv'))
    """
    import av

    with av.open(io.BytesIO(), "w", format="mp4") as probe:
        return ("mp4", ".mp4") if codec in probe.supported_codecs else ("matroska", ".mkv")


class RemuxWriter:
    """Writes ``EncodedPacket`` records of one stream into a file without re-encoding.

    Times are shifted so the first packet presents at 0. ``fragmented`` writes a fragmented MP4 (a fragment per
    key frame), which stays readable up to the last complete fragment if the process dies while writing."""

    def __init__(self, path: Path, info: StreamInfo, *, fragmented: bool = False) -> None:
        import av

        self.path = path
        self.info = info
        self.format, _ = container_for(info.codec)
        options = {"movflags": "+faststart"} if self.format == "mp4" else {}
        if fragmented and self.format == "mp4":  # each fragment reaches the file when it is complete
            options = {"movflags": "+frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}
        elif fragmented:
            options = {"flush_packets": "1"}
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._out: Any = av.open(str(path), "w", format=self.format, options=options)
        except (OSError, av.error.FFmpegError) as exc:
            raise VideoError(f"{path}: cannot be written ({exc})") from exc
        try:
            self._stream: Any = self._out.add_mux_stream(info.codec, width=info.width, height=info.height)
        except (av.error.FFmpegError, ValueError) as exc:
            self._out.close()
            raise VideoError(f"{path}: cannot hold {info.codec} video ({exc})") from exc
        self._stream.time_base = info.time_base
        self._origin: int | None = None
        self._last_dts: int | None = None
        self.packets = 0

    def __enter__(self) -> RemuxWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, record: EncodedPacket) -> None:
        """Append ``record``; times must be in this writer's time base (same ``StreamInfo``)."""
        import av

        if record.info.time_base != self.info.time_base or record.info.codec != self.info.codec:
            raise ValueError(f"{self.path}: packet of another stream ({record.info} vs {self.info})")
        pts = record.pts if record.pts is not None else record.dts
        assert pts is not None
        if self._origin is None:
            self._origin = pts
        dts = record.dts if record.dts is not None else pts
        if self._last_dts is not None and dts <= self._last_dts:
            dts = self._last_dts + 1  # muxers need strictly increasing decode times
        self._last_dts = dts
        packet = av.Packet(record.data)
        packet.time_base = self.info.time_base
        packet.pts = max(pts, dts) - self._origin
        packet.dts = dts - self._origin
        packet.duration = record.duration
        packet.is_keyframe = record.keyframe
        packet.stream = self._stream
        try:
            self._out.mux(packet)
        except av.error.FFmpegError as exc:
            raise VideoError(f"{self.path}: cannot be written ({exc})") from exc
        self.packets += 1

    def close(self) -> None:
        """Finish the file (raises ``VideoError`` when that fails, e.g. on a full disk)."""
        import av

        if self._out is not None:
            out, self._out = self._out, None
            try:
                out.close()
            except av.error.FFmpegError as exc:
                raise VideoError(f"{self.path}: cannot be finished ({exc})") from exc


@dataclass(frozen=True, slots=True)
class _Entry:
    t_s: float
    record: EncodedPacket


class PacketRing:
    """Encoded packets of one video stream covering at least ``seconds`` (thread-safe).

    The ring starts again when the stream changes (another ``StreamInfo``) or its time goes back (a reconnect, a
    file looping), so a clip never mixes two streams."""

    def __init__(self, seconds: float, *, max_packets: int = 100_000) -> None:
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        self.seconds = seconds
        self._entries: deque[_Entry] = deque(maxlen=max_packets)
        self._lock = threading.Lock()

    def add(self, record: EncodedPacket) -> None:
        """Keep ``record``; forget what is older than ``seconds`` before it, keeping the stream decodable from a
        key frame."""
        t = record.t_s
        with self._lock:
            entries = self._entries
            if entries and (entries[-1].record.info != record.info or t < entries[-1].t_s - 1.0):
                entries.clear()
            if not entries and not record.keyframe:
                return  # nothing can be decoded before the first key frame
            entries.append(_Entry(t, record))
            horizon = t - self.seconds
            # drop whole key-frame groups that end before the horizon
            while len(entries) > 1:
                next_key = next((i for i, e in enumerate(entries) if i > 0 and e.record.keyframe), None)
                if next_key is None or entries[next_key].t_s > horizon:
                    break
                for _ in range(next_key):
                    entries.popleft()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @property
    def clip_suffix(self) -> str:
        """The suffix a clip cut from this ring gets (``.mp4``, or ``.mkv`` for codecs MP4 cannot hold);
        ``.mp4`` before the first packet."""
        with self._lock:
            codec = self._entries[-1].record.info.codec if self._entries else None
        return ".mp4" if codec is None else container_for(codec)[1]

    @property
    def span_s(self) -> float:
        with self._lock:
            return self._entries[-1].t_s - self._entries[0].t_s if self._entries else 0.0

    def packets(self, start_s: float, end_s: float) -> list[EncodedPacket]:
        """Packets (decode order) from the last key frame at or before ``start_s`` up to ``end_s``."""
        with self._lock:
            entries = list(self._entries)
        keys = [i for i, e in enumerate(entries) if e.record.keyframe and e.t_s <= start_s]
        first = keys[-1] if keys else next((i for i, e in enumerate(entries) if e.record.keyframe), len(entries))
        return [e.record for e in entries[first:] if e.t_s <= end_s]


@dataclass(frozen=True, slots=True)
class Clip:
    """A written clip: where, how many packets, and the stream seconds it covers (from its first key frame)."""

    path: Path
    packets: int
    start_s: float
    end_s: float
    codec: str


def save_clip(ring: PacketRing, start_s: float, end_s: float, path: Path) -> Clip:
    """Write the ring's packets between ``start_s`` and ``end_s`` (stream seconds) to ``path`` without
    re-encoding, atomically (a ``.partial`` file renamed when complete).

    The file is an MP4 when the codec allows (H.264, H.265, MPEG-4...), otherwise Matroska with the suffix
    ``.mkv`` instead of ``path``'s (see ``Clip.path``). Works after the input has closed. Raises ``VideoError``
    when the ring holds nothing for that time."""
    records = fill_missing_dts(ring.packets(start_s, end_s))
    if not records or end_s < start_s:
        raise VideoError(f"no video buffered between {start_s:.1f} s and {end_s:.1f} s for {path.name}")
    info = records[0].info
    path = path.with_suffix(container_for(info.codec)[1])
    tmp = path.with_name(path.name + ".partial")
    try:
        with RemuxWriter(tmp, info) as writer:
            for record in records:
                writer.write(record)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return Clip(path, len(records), records[0].t_s, max(r.t_s for r in records), info.codec)


def fill_missing_dts(records: Iterable[EncodedPacket]) -> list[EncodedPacket]:
    """The records with decode times filled in where the demuxer gave none (Matroska and RTSP streams with
    B-frames, at their start): the presentation times in order, delayed just enough that no packet decodes after
    it presents.

    >>> info = StreamInfo("h264", 2, 2, Fraction(1, 10))
    >>> [p.dts for p in fill_missing_dts([EncodedPacket(b"", t, None, False, info) for t in (0, 3, 1, 2)])]
    [-1, 0, 1, 2]
    """
    records = list(records)
    if all(r.dts is not None for r in records):
        return records
    pts = [r.pts if r.pts is not None else r.dts for r in records]
    if any(p is None for p in pts):
        return records
    known = [int(p) for p in pts if p is not None]
    ordered = sorted(known)
    delay = max(o - p for o, p in zip(ordered, known, strict=True))
    return [dataclasses.replace(r, dts=o - delay) for r, o in zip(records, ordered, strict=True)]
