from __future__ import annotations

import av
import pytest

from storewatch.errors import VideoError
from storewatch.video.ring import PacketRing, save_clip
from storewatch.video.source import VideoSource
from tests.conftest import write_video


def test_ring_keeps_the_last_seconds_from_a_keyframe_and_clips_without_reencoding(tmp_path):
    src_path = tmp_path / "cam.mp4"
    write_video(src_path, frames=60, size=(320, 240), fps=10, codec="libx264")  # key frame every 5 frames
    ring = PacketRing(seconds=2.0)
    with VideoSource(src_path, on_packet=ring.add) as video:
        frames = list(video.frames())
        assert len(frames) == 60
        assert 2.0 <= ring.span_s < 2.0 + 0.5 + 0.1  # whole key-frame groups are kept
        clip = tmp_path / "events" / "clip.mp4"
        written = save_clip(ring, start_s=4.8, end_s=5.5, path=clip)
    with av.open(str(clip)) as out:
        stream = out.streams.video[0]
        assert stream.codec_context.name == "h264"
        decoded = list(out.decode(stream))
    assert len(decoded) == written and 8 <= written <= 12  # from the key frame at 4.5 s to 5.5 s
    assert not list((tmp_path / "events").glob("*.partial.mp4"))


def test_clip_outside_the_buffer_is_a_clear_error(tmp_path):
    with pytest.raises(VideoError, match="no video buffered"):
        save_clip(PacketRing(5.0), 0.0, 1.0, tmp_path / "x.mp4")
