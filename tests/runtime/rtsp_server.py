"""A real RTSP camera for the tests: a video file, looped, served as H.264 at ``rtsp://127.0.0.1:PORT/cam``.

Run it with Debian's interpreter, which has ``gi`` (the project's venv does not); ``tools/system-packages.sh``
installs GStreamer's RTSP server and plugins::

    /usr/bin/python3 tests/runtime/rtsp_server.py VIDEO PORT

It prints ``ready rtsp://127.0.0.1:PORT/cam`` on stdout once listening, ``setup transport=...`` on stderr for each
stream a client sets up, and exits non-zero with a message on stderr when it
cannot serve (port taken, file unreadable, a plugin missing). RTSP over TCP and over UDP both work; the RTP/RTCP
UDP ports, like the RTSP port, are bound on 127.0.0.1 only.

Why two pipelines: one decoder plays the file at its own rate, loops it (a seek to the start at end of stream, on a
bus this script owns) and hands frames to an ``intervideosink``; each RTSP media reads that channel with
``intervideosrc``, encodes and payloads. The file is decoded once however many clients come and go, and a client
that reconnects (the tests kill, freeze and restart things) joins a running stream. Light on a 2-core machine:
384x288 at the file's 10 fps, ``x264enc`` ultrafast/zerolatency on one thread, a key frame every second.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

WIDTH, HEIGHT, FPS = 384, 288, 10
CHANNEL = "storewatch-test-cam"
MOUNT = "/cam"
RTP_PORTS = (21000, 22999)
"""Server-side RTP/RTCP ports for UDP clients, bound on 127.0.0.1; below Linux's ephemeral range (32768-60999) so
they rarely collide with other sockets (when a bind fails the server tries another pair)."""

RAW_CAPS = f"video/x-raw,format=I420,width={WIDTH},height={HEIGHT},framerate={FPS}/1,pixel-aspect-ratio=1/1"


def decoder_description(video: Path) -> str:
    """The looping decoder: the file, decoded, scaled and paced at its own rate into the inter channel."""
    location = str(video).replace("\\", "\\\\").replace('"', '\\"')
    return (
        f'filesrc location="{location}" ! decodebin ! videoconvert ! videoscale ! videorate ! {RAW_CAPS} '
        f"! intervideosink channel={CHANNEL} sync=true"
    )


def media_description() -> str:
    """One RTSP media: the channel, encoded as H.264 with a key frame every second and in-band SPS/PPS."""
    return (
        f"( intervideosrc channel={CHANNEL} ! {RAW_CAPS} ! queue max-size-buffers=2 leaky=downstream "
        f"! x264enc speed-preset=ultrafast tune=zerolatency threads=1 key-int-max={FPS} bitrate=800 "
        "! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def start_decoder(gst: Any, glib: Any, video: Path, on_error: Callable[[str], None]) -> Any:
    """The looping decoder, playing; ``on_error`` gets a decoding error's message."""
    decoder = gst.parse_launch(decoder_description(video))

    def on_message(_bus: Any, message: Any) -> bool:
        if message.type == gst.MessageType.EOS:  # loop: back to the first frame
            decoder.seek_simple(gst.Format.TIME, gst.SeekFlags.FLUSH | gst.SeekFlags.KEY_UNIT, 0)
        elif message.type == gst.MessageType.ERROR:
            error, debug = message.parse_error()
            on_error(f"decoding {video}: {error.message} ({debug})")
        return True

    decoder.get_bus().add_watch(glib.PRIORITY_DEFAULT, on_message)
    decoder.set_state(gst.State.PLAYING)
    # Ready means decoding: wait for the first frame (an undecodable file fails here, not after "ready").
    if decoder.get_state(10 * gst.SECOND)[0] != gst.StateChangeReturn.SUCCESS:
        on_error(f"cannot decode {video} (not a video, or a GStreamer plugin missing)")
    return decoder


def make_server(rtsp: Any, rtsp_server: Any, port: int) -> Any:
    """The RTSP server on 127.0.0.1:``port`` with the media at ``MOUNT``; logs each client's transport."""

    def log_setup(_client: Any, context: Any) -> None:
        """Say on stderr which transport each client set up (tests check UDP really is UDP)."""
        found, transport = context.request.get_header(rtsp.RTSPHeaderField.TRANSPORT, 0)
        print(f"setup transport={transport if found == rtsp.RTSPResult.OK else '?'}", file=sys.stderr, flush=True)

    pool = rtsp_server.RTSPAddressPool()
    pool.add_range("127.0.0.1", "127.0.0.1", RTP_PORTS[0], RTP_PORTS[1], 0)
    factory = rtsp_server.RTSPMediaFactory()
    factory.set_launch(media_description())
    factory.set_shared(True)
    factory.set_address_pool(pool)
    server = rtsp_server.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    server.get_mount_points().add_factory(MOUNT, factory)
    server.connect("client-connected", lambda _server, client: client.connect("setup-request", log_setup))
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("video", type=Path, help="video file to serve, looped")
    parser.add_argument("port", type=int, help="RTSP port on 127.0.0.1")
    args = parser.parse_args(argv)
    if not args.video.is_file():
        print(f"error: {args.video}: no such file", file=sys.stderr)
        return 2

    import gi  # type: ignore[import-not-found]  # Debian's python3 has it, the venv does not

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtsp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # type: ignore[import-not-found]

    Gst.init(None)
    loop = GLib.MainLoop()
    failures: list[str] = []

    def fail(message: str) -> None:
        failures.append(message)
        loop.quit()

    decoder = start_decoder(Gst, GLib, args.video, fail)
    server = make_server(GstRtsp, GstRtspServer, args.port)
    if not failures and not server.attach(None):
        failures.append(f"cannot listen on 127.0.0.1:{args.port} (in use?)")
    if not failures:
        print(f"ready rtsp://127.0.0.1:{args.port}{MOUNT}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            loop.run()
    decoder.set_state(Gst.State.NULL)
    if failures:
        print(f"error: {failures[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
