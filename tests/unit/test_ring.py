from __future__ import annotations

import gc
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.logging
import numpy as np
import pytest

from storewatch.errors import VideoError
from storewatch.video.ring import (
    EncodedPacket,
    PacketCapture,
    PacketRing,
    StreamInfo,
    annexb_nal_types,
    save_clip,
)
from storewatch.video.source import VideoSource
from tests.conftest import write_video

FPS, GOP_S = 10, 0.5  # write_video: a key frame every 5 frames


def _decode(path: Path) -> tuple[str, list[Any], list[tuple[int, str, str]]]:
    """Codec name, decoded frames and the FFmpeg errors logged while decoding (PyAV forwards FFmpeg's log only
    when a level is set, so set one: otherwise the check depends on what earlier tests left)."""
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs, av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames = list(container.decode(stream))
            codec = stream.codec_context.name
    finally:
        av.logging.set_level(previous)
    return codec, frames, [entry for entry in logs if entry[0] <= av.logging.ERROR]


def _source_images(path: Path) -> dict[float, np.ndarray]:
    with av.open(str(path)) as container:
        return {round(float(f.time), 3): f.to_ndarray(format="bgr24") for f in container.decode(video=0)}


def _write_closed_gop_hevc(path: Path, frames: int) -> None:
    with av.logging.Capture(), av.open(str(path), "w") as out:
        stream = out.add_stream("libx265", rate=FPS, options={"x265-params": "keyint=5:min-keyint=5:no-open-gop=1"})
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(frames):
            img = np.full((120, 160, 3), 40, np.uint8)
            img[30:70, 5 + 2 * i : 25 + 2 * i] = (30, 200, 240)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def _capture(path: Path, ring: PacketRing) -> None:
    """Decode ``path`` with the ring on the packet hook, then close the input (clips are cut after that)."""
    with VideoSource(path, on_packet=PacketCapture(ring.add)) as video:
        assert sum(1 for _ in video.frames()) > 0
    del video
    gc.collect()  # the input's streams are gone, not just closed


@pytest.mark.parametrize(
    ("name", "codec", "expect"),
    [
        ("cam.mp4", "libx264", "h264"),  # length-prefixed H.264 with avcC extradata
        ("cam.ts", "libx264", "h264"),  # Annex-B H.264, parameter sets in band
        ("cam.mkv", "libx264", "h264"),  # avcC, no decode times at the start (B-frames)
        ("cam.ts", "libx265", "hevc"),  # Annex-B H.265, closed GOP (IDR key frames, as cameras send)
        ("cam.avi", "mpeg4", "mpeg4"),  # MPEG-4 part 2: MP4 takes it as is
    ],
)
@pytest.mark.parametrize(("start_s", "end_s"), [(0.0, 1.0), (2.2, 3.4)])
def test_clip_cut_after_the_input_closed_decodes_from_a_key_frame_identical_to_the_source(
    tmp_path, name, codec, expect, start_s, end_s
):
    src = tmp_path / name
    if codec == "libx265":
        _write_closed_gop_hevc(src, frames=50)
    else:
        write_video(src, frames=50, size=(160, 120), fps=FPS, codec=codec)
    ring = PacketRing(seconds=60.0)
    _capture(src, ring)
    t0 = ring.packets(0.0, 1e9)[0].t_s  # MPEG-TS times start above 0
    start_s, end_s = start_s + t0, end_s + t0

    clip = save_clip(ring, start_s, end_s, tmp_path / "events" / "clip.mp4")

    assert clip.path == tmp_path / "events" / "clip.mp4" and clip.codec == expect
    got_codec, frames, errors = _decode(clip.path)
    assert got_codec == expect and not errors
    assert len(frames) == clip.packets
    assert frames[0].key_frame
    first_s = float(frames[0].time)
    duration = float(frames[-1].time) - first_s + 1 / FPS
    assert end_s - start_s <= duration + 1e-6 <= end_s - start_s + GOP_S + 1 / FPS + 1e-6
    assert start_s - GOP_S - 1e-6 <= clip.start_s <= start_s + 1e-6
    # remuxed, not re-encoded: every frame is the source's frame, pixel for pixel
    source = _source_images(src)
    times = sorted(source)
    offset = times.index(round(clip.start_s, 3))
    for i, frame in enumerate(frames):
        assert np.array_equal(frame.to_ndarray(format="bgr24"), source[times[offset + i]])
    assert not list(clip.path.parent.glob("*.partial"))


@pytest.mark.shared
def test_sample_camera_clip_is_remuxed_into_matroska(tmp_path, pets_video):
    ring = PacketRing(seconds=10.0)
    with VideoSource(pets_video, on_packet=PacketCapture(ring.add)) as video:
        for frame in video.frames():
            if frame.meta.seq >= 120:
                break
    clip = save_clip(ring, 5.0, 7.0, tmp_path / "clip.mp4")
    # FFmpeg reads the sample as MS-MPEG-4 v3 (DIV3), which MP4 does not carry: Matroska, still no re-encoding
    assert clip.path == tmp_path / "clip.mkv" and clip.codec == "msmpeg4"
    codec, frames, errors = _decode(clip.path)
    assert codec == "msmpeg4" and not errors and frames[0].key_frame
    assert len(frames) == clip.packets and clip.end_s - clip.start_s >= 2.0


class _FakeStream:
    def __init__(self, ctx: Any) -> None:
        self.codec_context = ctx


@dataclass
class _FakePacket:
    """What a camera's RTSP demuxer hands over: bytes, times, flags and the stream's codec context."""

    data: bytes
    pts: int | None
    dts: int | None
    is_keyframe: bool
    duration: int
    time_base: Fraction
    stream: _FakeStream

    @property
    def size(self) -> int:
        return len(self.data)

    def __bytes__(self) -> bytes:
        return self.data


def _strip_parameter_sets(data: bytes) -> bytes:
    nals = [n.rstrip(b"\x00") for n in data.split(b"\x00\x00\x01")]
    kept = [n for n in nals if n and n[0] & 0x1F not in (7, 8)]
    return b"".join(b"\x00\x00\x00\x01" + n for n in kept)


def _rtsp_like_packets(src: Path, *, in_band: bool, extradata: str) -> list[_FakePacket]:
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        params = bytes(ctx.extradata or b"")
        fake_ctx = type(
            "Ctx",
            (),
            {"name": "h264", "width": ctx.width, "height": ctx.height, "extradata": params if extradata else None},
        )()
        packets = []
        for p in container.demux(stream):
            if p.size:
                data = bytes(p) if in_band else _strip_parameter_sets(bytes(p))
                packets.append(
                    _FakePacket(data, p.pts, p.dts, p.is_keyframe, p.duration, p.time_base, _FakeStream(fake_ctx))
                )
    return packets


@pytest.mark.parametrize(
    ("in_band", "extradata"),
    [
        pytest.param(
            False,
            "annexb",
            id="parameter-sets-only-in-sdp-extradata",
            marks=pytest.mark.xfail(
                reason="known defect: the clip decodes every frame but FFmpeg logs 'co located POCs unavailable' at "
                "its first B-frames when the parameter sets came only from the SDP extradata; cause not found yet",
                strict=True,
            ),
        ),
        pytest.param(True, "", id="parameter-sets-only-in-band"),
    ],
)
def test_annexb_camera_stream_makes_a_valid_mp4(tmp_path, in_band, extradata):
    src = tmp_path / "cam.ts"
    write_video(src, frames=40, fps=FPS, codec="libx264")
    ring = PacketRing(seconds=60.0)
    capture = PacketCapture(ring.add)
    packets = _rtsp_like_packets(src, in_band=in_band, extradata=extradata)
    assert in_band or 7 not in annexb_nal_types(packets[0].data, "h264")
    for p in packets:
        capture(p)

    clip = save_clip(ring, 2.3, 3.0, tmp_path / "clip.mp4")

    codec, frames, errors = _decode(clip.path)
    assert codec == "h264" and not errors and frames[0].key_frame and len(frames) == clip.packets
    with av.open(str(clip.path)) as out:
        assert out.streams.video[0].codec_context.extradata[0] == 1  # avcC, as MP4 requires


def _record(t: float, key: bool, info: StreamInfo) -> EncodedPacket:
    ts = round(t / info.time_base)
    return EncodedPacket(b"\x00\x00\x00\x01\x65", ts, ts, key, info)


INFO = StreamInfo("h264", 320, 240, Fraction(1, 90000))


def test_ring_keeps_whole_key_frame_groups_covering_its_seconds():
    ring = PacketRing(seconds=2.0)
    for i in range(60):
        ring.add(_record(i / 10, i % 5 == 0, INFO))
    assert 2.0 <= ring.span_s < 2.0 + GOP_S
    packets = ring.packets(4.8, 5.5)
    assert packets[0].keyframe and packets[0].t_s == pytest.approx(4.5) and packets[-1].t_s == pytest.approx(5.5)


@pytest.mark.parametrize(
    "second_stream",
    [
        [(0.0, True, INFO), (0.1, False, INFO)],  # a reconnect: time starts again
        [(6.0, True, StreamInfo("h264", 640, 480, Fraction(1, 90000)))],  # the camera changed its resolution
    ],
)
def test_ring_starts_again_on_a_new_stream(second_stream):
    ring = PacketRing(seconds=10.0)
    for i in range(50):
        ring.add(_record(i / 10, i % 5 == 0, INFO))
    for t, key, info in second_stream:
        ring.add(_record(t, key, info))
    assert len(ring.packets(0.0, 100.0)) == len(second_stream)


def test_ring_ignores_packets_before_the_first_key_frame():
    ring = PacketRing(seconds=10.0)
    for i in range(1, 8):
        ring.add(_record(i / 10, i % 5 == 0, INFO))
    assert [p.t_s for p in ring.packets(0.0, 10.0)] == pytest.approx([0.5, 0.6, 0.7])


def test_clip_outside_the_buffer_is_a_clear_error(tmp_path):
    with pytest.raises(VideoError, match="no video buffered"):
        save_clip(PacketRing(5.0), 0.0, 1.0, tmp_path / "x.mp4")
    ring = PacketRing(5.0)
    ring.add(_record(10.0, True, INFO))
    with pytest.raises(VideoError, match="no video buffered"):
        save_clip(ring, 0.0, 1.0, tmp_path / "x.mp4")
    assert not list(tmp_path.iterdir())


def test_ring_arguments_are_checked():
    with pytest.raises(ValueError, match="positive"):
        PacketRing(0)


def test_the_clip_suffix_follows_the_codec_so_alert_links_name_the_real_file():
    ring = PacketRing(seconds=2.0)
    assert ring.clip_suffix == ".mp4"  # nothing seen yet
    ring.add(_record(0.0, True, INFO))
    assert ring.clip_suffix == ".mp4"
    ring.add(_record(5.0, True, StreamInfo("msmpeg4v3", 320, 240, Fraction(1, 25))))  # e.g. an old DivX camera
    assert ring.clip_suffix == ".mkv"
