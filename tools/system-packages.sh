#!/usr/bin/env bash
# Debian packages the tests need beyond the venv: GStreamer's RTSP server and the plugins that serve the sample
# video as H.264 (tests/runtime/rtsp_server.py runs under the system python3, which has `gi`).
# Idempotent and quiet: does nothing when every package is installed; installs the missing ones when run as root
# (running `apt-get update` once, first); otherwise names them, and the tests that need them skip.
set -euo pipefail

PACKAGES=(
    python3-gi                   # `gi` for the system python3
    gir1.2-gst-rtsp-server-1.0   # GstRtspServer (pulls GStreamer's own introspection data)
    gstreamer1.0-plugins-base    # decodebin, videoconvert, videoscale
    gstreamer1.0-plugins-good    # avidemux, rtph264pay, rtpbin, udp
    gstreamer1.0-plugins-bad     # intervideosink/src (hand frames from the looping decoder to the RTSP media)
    gstreamer1.0-plugins-ugly    # x264enc
    gstreamer1.0-libav           # avdec_msmpeg4 (the sample video's codec)
    gstreamer1.0-tools           # gst-inspect-1.0 / gst-launch-1.0, to diagnose a failing server
    mosquitto                    # MQTT broker for the alert delivery tests (tests/alerts)
    chromium                     # headless browser for the dashboard tests (tests/web/test_browser.py, Playwright)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) != 0 ]]; then
    echo "note: missing system packages (the RTSP camera tests will skip): ${missing[*]}" >&2
    echo "      install them with: sudo apt-get install ${missing[*]}" >&2
    exit 0
fi

echo "installing system packages (apt-get): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# apt's progress and debconf chatter are shown only when a step fails.
run_quietly() {
    local out
    out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; echo "error: $* failed" >&2; return 1; }
}
run_quietly apt-get update -qq
run_quietly apt-get install -y -qq --no-install-recommends "${missing[@]}"
