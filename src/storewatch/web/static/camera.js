// storewatch: a camera's view. Follows /api/v1/cameras/<store>/<camera>/live: the picture (the live frame about twice
// a second when the cameras run in this process, else the newest event snapshot), with the tracks of that frame and
// the camera's zones and lines drawn over it. Thumbnails on the cameras list fall back to a placeholder.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const img of document.querySelectorAll("img[data-fallback]")) {
    const swap = () => {
      const box = document.createElement("div");
      box.className = `${img.className} thumb-missing`;
      box.innerHTML = "<span>No picture yet</span>";
      img.replaceWith(box);
    };
    if (img.complete && img.naturalWidth === 0) swap(); else img.addEventListener("error", swap);
  }
  const view = document.querySelector("[data-camera-view]");
  if (view) followCamera(view);
});

function followCamera(root) {
  const img = root.querySelector("img");
  const canvas = root.querySelector("canvas");
  const empty = root.querySelector("[data-view-empty]");
  const status = document.querySelector("[data-view-status]");
  const count = document.querySelector("[data-track-count]");
  const show = { tracks: true, zones: true };
  for (const box of document.querySelectorAll("[data-show]")) {
    show[box.dataset.show] = box.checked;
    box.addEventListener("change", () => { show[box.dataset.show] = box.checked; draw(); });
  }
  let view = null, shown = null, failures = 0;

  async function loadFrame(url) {
    const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
    if (!response.ok) return false;
    const next = URL.createObjectURL(await response.blob());
    await new Promise((done) => { img.onload = done; img.onerror = done; img.src = next; });
    if (shown) URL.revokeObjectURL(shown);
    shown = next;
    img.hidden = false;
    empty.hidden = true;
    root.classList.add("has-picture");
    return true;
  }

  async function tick() {
    try {
      const response = await fetch(root.dataset.liveUrl, { cache: "no-store", credentials: "same-origin" });
      if (response.redirected || response.status === 401) { window.location.reload(); return; }
      if (response.ok) {
        const next = await response.json();
        const fresh = next.mode === "live" || (next.mode === "snapshot" && (!view || view.snapshot_utc !== next.snapshot_utc));
        if (fresh && next.frame_url) await loadFrame(next.frame_url);
        view = next;
        failures = 0;
        draw();
        describe();
      }
    } catch (e) {
      failures += 1;
      if (status) status.textContent = "Reconnecting…";
    }
    const live = view && view.mode === "live";
    setTimeout(tick, live ? 500 : Math.min(5000 * (failures + 1), 30000));
  }

  function draw() {
    if (!view) return;
    const [ctx, w, h] = Shapes.fit(canvas);
    if (show.zones) {
      for (const z of view.zones) Shapes.zone(ctx, z, w, h);
      for (const l of view.lines) Shapes.line(ctx, l, w, h);
    }
    if (show.tracks) for (const t of view.tracks) Shapes.track(ctx, t, w, h);
  }

  function describe() {
    if (count) count.textContent = view.mode === "live" ? String(view.tracks.length) : "—";
    if (!status) return;
    status.dataset.mode = view.mode;
    if (view.mode === "live") {
      const age = view.frame_age_s == null ? "" : ` · frame ${view.frame_age_s.toFixed(1)} s old`;
      status.textContent = `Live${age}`;
    } else if (view.mode === "snapshot") {
      const when = new Date(view.snapshot_utc);
      const shown = when.toLocaleString([], {
        day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
        timeZone: root.dataset.timezone || undefined, timeZoneName: "short",
      });
      status.textContent = `Newest event snapshot · ${shown}`;
    } else {
      status.textContent = "No picture yet";
    }
  }

  new ResizeObserver(draw).observe(root);
  tick();
}
