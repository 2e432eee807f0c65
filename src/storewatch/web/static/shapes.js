// storewatch: drawing zones, lines and tracks over a camera picture (the camera view and the zone editor share it).
// Coordinates are normalised 0-1 of the frame, as in the site file; the canvas lies exactly over the picture.
"use strict";

const Shapes = (() => {
  const COLORS = {
    shelf: "#0284c7", high_value: "#d97706", checkout: "#059669", queue: "#0d9488", entrance: "#4f46e5",
    exit: "#7c3aed", staff_only: "#dc2626", cash_office: "#be123c", fire_exit: "#ea580c", privacy: "#3f3f46",
    custom: "#475569",
  };
  const TRACK = "#22c55e";
  const ERROR = "#dc2626";

  const color = (kind) => COLORS[kind] || COLORS.custom;

  // Size the canvas backing store to its CSS box (sharp on high-DPI screens); returns [context, width, height].
  function fit(canvas) {
    const rect = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(rect.width)), h = Math.max(1, Math.round(rect.height));
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return [ctx, w, h];
  }

  const px = (p, w, h) => [p[0] * w, p[1] * h];

  function centroid(points) {
    let x = 0, y = 0;
    for (const p of points) { x += p[0]; y += p[1]; }
    return [x / points.length, y / points.length];
  }

  function pill(ctx, text, x, y, bg, { align = "center", fg = "#fff" } = {}) {
    ctx.font = "600 12px ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    const tw = ctx.measureText(text).width, padX = 6, h = 20;
    let left = align === "left" ? x : x - tw / 2 - padX;
    const width = tw + padX * 2;
    left = Math.max(2, Math.min(left, ctx.canvas.clientWidth - width - 2));
    const top = Math.max(2, Math.min(y - h / 2, ctx.canvas.clientHeight - h - 2));
    ctx.fillStyle = bg;
    ctx.beginPath();
    if (ctx.roundRect) ctx.roundRect(left, top, width, h, 6); else ctx.rect(left, top, width, h);
    ctx.fill();
    ctx.fillStyle = fg;
    ctx.textBaseline = "middle";
    ctx.textAlign = "left";
    ctx.fillText(text, left + padX, top + h / 2 + 0.5);
  }

  function zone(ctx, z, w, h, { selected = false, error = false, faint = false, labels = true } = {}) {
    if (!z.polygon || z.polygon.length < 2) return;
    const c = error ? ERROR : color(z.kind);
    ctx.save();
    ctx.beginPath();
    z.polygon.forEach((p, i) => { const [x, y] = px(p, w, h); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
    ctx.closePath();
    ctx.globalAlpha = z.kind === "privacy" ? 0.55 : (selected ? 0.28 : 0.18) * (faint ? 0.6 : 1);
    ctx.fillStyle = c;
    ctx.fill();
    ctx.globalAlpha = faint ? 0.6 : 1;
    ctx.lineJoin = "round";
    ctx.lineWidth = 4;
    ctx.strokeStyle = "rgba(255,255,255,.75)";
    ctx.stroke();
    ctx.lineWidth = selected ? 3 : 2;
    ctx.setLineDash(error ? [7, 5] : []);
    ctx.strokeStyle = c;
    ctx.stroke();
    ctx.restore();
    if (labels && z.polygon.length >= 3) {
      const [cx, cy] = px(centroid(z.polygon), w, h);
      pill(ctx, (error ? "! " : "") + (z.name || z.id || "new zone"), cx, cy, c);
    }
  }

  // The side of a->b that counts as inside: "left" as seen walking along it on the screen (image y points down).
  function inNormal(a, b, side) {
    const dx = b[0] - a[0], dy = b[1] - a[1], len = Math.hypot(dx, dy) || 1;
    return side === "right" ? [-dy / len, dx / len] : [dy / len, -dx / len];
  }

  function line(ctx, l, w, h, { selected = false, error = false, labels = true } = {}) {
    if (!l.points || l.points.length < 2) return;
    const c = error ? ERROR : color(l.kind === "custom" ? "custom" : l.kind);
    const a = px(l.points[0], w, h), b = px(l.points[1], w, h);
    ctx.save();
    ctx.lineCap = "round";
    ctx.beginPath(); ctx.moveTo(...a); ctx.lineTo(...b);
    ctx.lineWidth = selected ? 7 : 6; ctx.strokeStyle = "rgba(255,255,255,.85)"; ctx.stroke();
    ctx.setLineDash(error ? [8, 6] : []);
    ctx.lineWidth = selected ? 4 : 3; ctx.strokeStyle = c; ctx.stroke();
    ctx.setLineDash([]);
    // the arrow points into the "in" side
    const [nx, ny] = inNormal(a, b, l.direction_in || "left");
    const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], len = 26;
    const tip = [mid[0] + nx * len, mid[1] + ny * len];
    ctx.beginPath(); ctx.moveTo(...mid); ctx.lineTo(...tip);
    ctx.lineWidth = 3; ctx.strokeStyle = c; ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(tip[0] + nx * 6, tip[1] + ny * 6);
    ctx.lineTo(tip[0] - ny * 6 - nx * 4, tip[1] + nx * 6 - ny * 4);
    ctx.lineTo(tip[0] + ny * 6 - nx * 4, tip[1] - nx * 6 - ny * 4);
    ctx.closePath(); ctx.fillStyle = c; ctx.fill();
    ctx.restore();
    if (labels) {
      pill(ctx, "in", tip[0] + nx * 16, tip[1] + ny * 16, c);
      pill(ctx, (error ? "! " : "") + (l.name || l.id || "new line"), a[0], a[1] - 16, c, { align: "left" });
    }
  }

  function track(ctx, t, w, h) {
    const [x1, y1] = px([t.box[0], t.box[1]], w, h), [x2, y2] = px([t.box[2], t.box[3]], w, h);
    ctx.save();
    ctx.lineWidth = 2;
    ctx.strokeStyle = TRACK;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    ctx.restore();
    pill(ctx, `#${t.id}${t.label === "person" ? "" : " " + t.label}`, x1, y1 - 11, "#15803d", { align: "left" });
  }

  function handle(ctx, p, w, h, { active = false, ghost = false } = {}) {
    const [x, y] = px(p, w, h);
    ctx.save();
    ctx.beginPath();
    ctx.arc(x, y, ghost ? 4.5 : active ? 8 : 6.5, 0, Math.PI * 2);
    ctx.fillStyle = ghost ? "rgba(255,255,255,.7)" : active ? "#4f46e5" : "#fff";
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = ghost ? "rgba(79,70,229,.8)" : "#4f46e5";
    ctx.stroke();
    ctx.restore();
  }

  // Whether normalised point p lies inside the polygon (even-odd rule).
  function inside(points, p) {
    let hit = false;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [xi, yi] = points[i], [xj, yj] = points[j];
      if ((yi > p[1]) !== (yj > p[1]) && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) hit = !hit;
    }
    return hit;
  }

  // Distance in pixels from p to the segment a-b (all normalised; w, h the picture size).
  function segmentDistance(p, a, b, w, h) {
    const [px0, py0] = [p[0] * w, p[1] * h], [ax, ay] = [a[0] * w, a[1] * h], [bx, by] = [b[0] * w, b[1] * h];
    const dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy || 1;
    const t = Math.max(0, Math.min(1, ((px0 - ax) * dx + (py0 - ay) * dy) / len2));
    return Math.hypot(px0 - (ax + t * dx), py0 - (ay + t * dy));
  }

  return { COLORS, color, fit, zone, line, track, handle, inside, segmentDistance, centroid, pill };
})();
