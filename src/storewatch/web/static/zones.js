// storewatch: the zone editor. Draw, move and delete a camera's zones (polygons) and lines (two points, an "in"
// side) on its picture, with mouse, pen or touch alike (pointer events). Every change is checked by the server with
// the site file's own schema (/geometry/check) and problems are shown next to the shape; Save writes the site file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.querySelector("[data-zone-editor]");
  if (root) new ZoneEditor(root);
});

const HELP = {
  select: "Drag a corner to move it, a small dot between two corners to add one, or a shape to move it whole. "
    + "Select a corner and press Delete (or Remove corner) to take it out.",
  zone: "Click or tap each corner in turn. Close the zone on its first corner, with a double-click or with Finish. "
    + "Esc cancels.",
  line: "Click or tap the line's two ends, A then B. The arrow shows the side that counts as in; change it in the list.",
};
const FIELDS = { id: "Id", name: "Name", kind: "Kind", polygon: "Corners", points: "Ends", direction_in: "In side" };
const round = (v) => Math.round(v * 10000) / 10000;
const clamp01 = (v) => Math.min(1, Math.max(0, v));
let uid = 0;

class ZoneEditor {
  constructor(root) {
    this.root = root;
    const data = JSON.parse(document.getElementById("geometry-data").textContent);
    this.version = data.version;
    this.canEdit = data.can_edit;
    this.kinds = { zone: data.zone_kinds, line: data.line_kinds };
    this.shapes = [
      ...data.zones.map((z) => this.shape("zone", z.id, z)),
      ...data.lines.map((l) => this.shape("line", l.id, l)),
    ];
    this.general = [];
    this.selected = null;
    this.vertex = null;
    this.mode = "select";
    this.draft = null;
    this.hover = null;
    this.drag = null;
    this.dirty = false;
    this.checkTimer = null;
    this.checkSeq = 0;
    this.el = {
      stage: root.querySelector("[data-stage]"),
      img: root.querySelector("[data-stage] img"),
      canvas: root.querySelector("[data-stage] canvas"),
      list: root.querySelector("[data-shape-list]"),
      status: root.querySelector("[data-editor-status]"),
      help: root.querySelector("[data-editor-help]"),
      draftActions: root.querySelector("[data-draft-actions]"),
      general: root.querySelector("[data-general-errors]"),
      notice: root.querySelector("[data-editor-notice]"),
      save: root.querySelector("[data-action=save]"),
      empty: root.querySelector("[data-list-empty]"),
    };
    this.picture();
    this.bind();
    this.renderList();
    this.setMode("select");
    this.setStatus("No changes");
  }

  shape(type, was, data) {
    const copy = JSON.parse(JSON.stringify(data));
    if (type === "line" && !copy.direction_in) copy.direction_in = "left";
    if (type === "line" && !copy.kind) copy.kind = "custom";
    return { uid: ++uid, type, was, data: copy, problems: [] };
  }

  points(s) { return s.type === "zone" ? s.data.polygon : s.data.points; }

  // --- the picture ---------------------------------------------------------------------------------------------
  picture() {
    const { img, stage } = this.el;
    const ready = () => {
      if (img.naturalWidth > 0) {
        stage.style.setProperty("--aspect", `${img.naturalWidth} / ${img.naturalHeight}`);
        stage.classList.add("has-picture");
      } else {
        stage.classList.add("no-picture");
      }
      this.draw();
    };
    if (img.complete) ready(); else { img.addEventListener("load", ready); img.addEventListener("error", ready); }
    new ResizeObserver(() => this.draw()).observe(stage);
  }

  // --- events ----------------------------------------------------------------------------------------------------
  bind() {
    const { canvas } = this.el;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointercancel", (e) => this.up(e));
    canvas.addEventListener("pointerleave", () => { if (!this.drag) { this.hover = null; this.draw(); } });
    canvas.addEventListener("dblclick", (e) => { if (this.mode === "zone") { e.preventDefault(); this.finishZone(); } });
    for (const b of this.root.querySelectorAll("[data-tool]")) b.addEventListener("click", () => this.setMode(b.dataset.tool));
    this.root.querySelector("[data-action=finish]")?.addEventListener("click", () => this.finishZone());
    this.root.querySelector("[data-action=cancel]")?.addEventListener("click", () => this.setMode("select"));
    this.el.save?.addEventListener("click", () => this.save());
    document.addEventListener("keydown", (e) => this.key(e));
    window.addEventListener("beforeunload", (e) => { if (this.dirty) { e.preventDefault(); e.returnValue = ""; } });
  }

  key(e) {
    if (e.target.closest("input, select, textarea, button")) return;
    if (e.key === "Escape") { this.setMode("select"); this.select(null); }
    else if (e.key === "Enter" && this.mode === "zone") this.finishZone();
    else if ((e.key === "Delete" || e.key === "Backspace") && this.canEdit) { if (this.removeCorner()) e.preventDefault(); }
  }

  pos(e) {
    const r = this.el.canvas.getBoundingClientRect();
    return [clamp01((e.clientX - r.left) / r.width), clamp01((e.clientY - r.top) / r.height)];
  }

  size() {
    const r = this.el.canvas.getBoundingClientRect();
    return [r.width || 1, r.height || 1];
  }

  near(a, b, radius) {
    const [w, h] = this.size();
    return Math.hypot((a[0] - b[0]) * w, (a[1] - b[1]) * h) <= radius;
  }

  down(e) {
    const p = this.pos(e), radius = e.pointerType === "touch" ? 22 : 12;
    if (this.mode === "zone") { this.addCorner(p, radius); return; }
    if (this.mode === "line") { this.addEnd(p); return; }
    const hit = this.hit(p, radius);
    this.select(hit ? hit.shape : null, hit && hit.vertex != null ? hit.vertex : null);
    if (!hit || !this.canEdit) return;
    if (hit.insert != null) {
      this.points(hit.shape).splice(hit.insert, 0, p);
      this.vertex = hit.insert;
      hit.vertex = hit.insert;
    }
    this.el.canvas.setPointerCapture(e.pointerId);
    const orig = this.points(hit.shape).map((q) => [...q]);
    this.drag = { shape: hit.shape, vertex: hit.vertex, start: p, orig, moved: hit.insert != null };
    this.draw();
  }

  move(e) {
    const p = this.pos(e);
    this.hover = p;
    if (!this.drag) {
      if (this.mode === "select") {
        const hit = this.hit(p, e.pointerType === "touch" ? 22 : 12);
        this.el.canvas.style.cursor = !hit ? "default" : hit.vertex != null || hit.insert != null ? "pointer" : this.canEdit ? "move" : "pointer";
      }
      if (this.draft) this.draw();
      return;
    }
    const { shape, vertex, start, orig } = this.drag;
    const pts = this.points(shape);
    if (vertex != null) {
      pts[vertex] = p;
    } else {
      const xs = orig.map((q) => q[0]), ys = orig.map((q) => q[1]);
      const dx = Math.min(Math.max(p[0] - start[0], -Math.min(...xs)), 1 - Math.max(...xs));
      const dy = Math.min(Math.max(p[1] - start[1], -Math.min(...ys)), 1 - Math.max(...ys));
      orig.forEach((q, i) => { pts[i] = [q[0] + dx, q[1] + dy]; });
    }
    this.drag.moved = this.drag.moved || !this.near(p, start, 2);
    this.draw();
  }

  up() {
    if (!this.drag) return;
    const moved = this.drag.moved;
    this.drag = null;
    if (moved) this.changed();
  }

  // What is under p: a corner (of the selected shape first), an edge's midpoint of the selected zone, or a shape.
  hit(p, radius) {
    const order = this.selected ? [this.selected, ...this.shapes.filter((s) => s !== this.selected).reverse()] : [...this.shapes].reverse();
    for (const s of order) {
      const i = this.points(s).findIndex((q) => this.near(p, q, radius));
      if (i >= 0) return { shape: s, vertex: i };
      if (s === this.selected && s.type === "zone" && this.canEdit) {
        const pts = this.points(s);
        for (let k = 0; k < pts.length; k++) {
          const a = pts[k], b = pts[(k + 1) % pts.length];
          if (this.near(p, [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], radius * 0.8)) return { shape: s, vertex: null, insert: k + 1 };
        }
      }
    }
    const [w, h] = this.size();
    for (const s of order) {
      const pts = this.points(s);
      if (s.type === "line" && Shapes.segmentDistance(p, pts[0], pts[1], w, h) <= radius) return { shape: s, vertex: null };
      if (s.type === "zone" && pts.length >= 3 && Shapes.inside(pts, p)) return { shape: s, vertex: null };
    }
    return null;
  }

  // --- drawing new shapes ----------------------------------------------------------------------------------------
  setMode(mode) {
    if (!this.canEdit) mode = "select";
    this.mode = mode;
    this.draft = null;
    for (const b of this.root.querySelectorAll("[data-tool]")) b.setAttribute("aria-pressed", String(b.dataset.tool === mode));
    this.el.canvas.style.cursor = mode === "select" ? "default" : "crosshair";
    this.el.stage.dataset.mode = mode;
    if (this.el.help) this.el.help.textContent = this.canEdit ? HELP[mode] : "";
    if (this.el.draftActions) this.el.draftActions.hidden = mode !== "zone";
    this.draw();
  }

  addCorner(p, radius) {
    this.draft = this.draft || [];
    if (this.draft.length >= 3 && this.near(p, this.draft[0], radius)) { this.finishZone(); return; }
    if (this.draft.length && this.near(p, this.draft[this.draft.length - 1], 3)) return; // a double-click's 2nd click
    this.draft.push(p);
    this.draw();
  }

  finishZone() {
    if (this.mode !== "zone" || !this.draft) return;
    if (this.draft.length < 3) { this.flash("A zone needs at least three corners."); return; }
    const s = this.shape("zone", null, { id: this.nextId("zone"), name: "", kind: "custom", polygon: this.draft });
    this.add(s);
  }

  addEnd(p) {
    if (!this.draft) { this.draft = [p]; this.draw(); return; }
    if (this.near(p, this.draft[0], 4)) return;
    const s = this.shape("line", null, { id: this.nextId("line"), name: "", kind: "custom", points: [this.draft[0], p], direction_in: "left" });
    this.add(s);
  }

  add(s) {
    this.shapes.push(s);
    this.setMode("select");
    this.select(s);
    this.changed();
    this.el.list.querySelector(`[data-uid="${s.uid}"]`)?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  nextId(base) {
    const taken = new Set(this.shapes.map((s) => s.data.id));
    let n = 1;
    while (taken.has(`${base}-${n}`)) n += 1;
    return `${base}-${n}`;
  }

  removeCorner() {
    const s = this.selected;
    if (!s || s.type !== "zone" || this.vertex == null || s.data.polygon.length <= 3) return false;
    s.data.polygon.splice(this.vertex, 1);
    this.vertex = null;
    this.changed();
    this.renderList();
    return true;
  }

  remove(s) {
    this.shapes = this.shapes.filter((x) => x !== s);
    if (this.selected === s) this.select(null);
    this.changed();
    this.renderList();
  }

  select(s, vertex = null) {
    const changed = this.selected !== s;
    this.selected = s;
    this.vertex = vertex;
    if (changed) this.renderList();
    else this.updateCornerButton();
    this.draw();
  }

  // --- the canvas ----------------------------------------------------------------------------------------------
  draw() {
    const [ctx, w, h] = Shapes.fit(this.el.canvas);
    for (const s of this.shapes) {
      const opts = { selected: s === this.selected, error: s.problems.length > 0 };
      if (s.type === "zone") Shapes.zone(ctx, s.data, w, h, opts); else Shapes.line(ctx, s.data, w, h, opts);
    }
    const s = this.selected;
    if (s && this.canEdit) {
      const pts = this.points(s);
      if (s.type === "zone") {
        pts.forEach((a, k) => { const b = pts[(k + 1) % pts.length]; Shapes.handle(ctx, [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], w, h, { ghost: true }); });
      }
      pts.forEach((q, k) => Shapes.handle(ctx, q, w, h, { active: k === this.vertex }));
      if (s.type === "line") ["A", "B"].forEach((t, k) => Shapes.pill(ctx, t, pts[k][0] * w + 16, pts[k][1] * h + 14, "#18181b"));
    }
    if (this.draft) this.drawDraft(ctx, w, h);
  }

  drawDraft(ctx, w, h) {
    const pts = this.hover ? [...this.draft, this.hover] : this.draft;
    ctx.save();
    ctx.beginPath();
    pts.forEach((q, i) => (i ? ctx.lineTo(q[0] * w, q[1] * h) : ctx.moveTo(q[0] * w, q[1] * h)));
    if (this.mode === "zone" && pts.length > 2) { ctx.closePath(); ctx.fillStyle = "rgba(79,70,229,.15)"; ctx.fill(); }
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#4f46e5";
    ctx.stroke();
    ctx.restore();
    this.draft.forEach((q, k) => Shapes.handle(ctx, q, w, h, { active: k === 0 && this.draft.length >= 3 }));
  }

  // --- the list --------------------------------------------------------------------------------------------------
  renderList() {
    const { list, empty } = this.el;
    list.replaceChildren(...this.shapes.map((s) => this.item(s)));
    if (empty) empty.hidden = this.shapes.length > 0;
  }

  item(s) {
    const li = document.createElement("li");
    li.className = "shape-item" + (s === this.selected ? " selected" : "") + (s.problems.length ? " has-error" : "");
    li.dataset.uid = s.uid;
    const head = document.createElement("button");
    head.type = "button";
    head.className = "shape-head";
    head.setAttribute("aria-expanded", String(s === this.selected));
    head.innerHTML = '<span class="swatch" aria-hidden="true"></span><span class="shape-title"><strong></strong><small></small></span>';
    head.querySelector(".swatch").classList.toggle("swatch-line", s.type === "line");
    this.title(head, s);
    head.addEventListener("click", () => this.select(s === this.selected ? null : s));
    li.append(head);
    if (s === this.selected) li.append(this.fields(s));
    const errors = document.createElement("ul");
    errors.className = "shape-errors";
    errors.setAttribute("role", "alert");
    for (const p of s.problems) {
      const e = document.createElement("li");
      e.textContent = p.field ? `${FIELDS[p.field] || p.field}: ${p.message}` : p.message;
      errors.append(e);
    }
    li.append(errors);
    return li;
  }

  title(head, s) {
    head.querySelector("strong").textContent = s.data.name || s.data.id || "(no id)";
    head.querySelector("small").textContent = `${s.type === "zone" ? "Zone" : "Line"} · ${String(s.data.kind || "").replace(/_/g, " ")}`;
    head.querySelector(".swatch").style.background = Shapes.color(s.data.kind);
  }

  fields(s) {
    const box = document.createElement("div");
    box.className = "shape-fields";
    const field = (label, name, control) => {
      const wrap = document.createElement("div");
      wrap.className = "field";
      const id = `shape-${s.uid}-${name}`;
      const l = document.createElement("label");
      l.htmlFor = id;
      l.textContent = label;
      control.id = id;
      control.name = name;
      control.disabled = !this.canEdit;
      if (s.problems.some((p) => p.field === name)) control.setAttribute("aria-invalid", "true");
      control.addEventListener("input", () => {
        s.data[name] = control.value;
        this.title(box.parentElement.querySelector(".shape-head"), s);
        this.changed();
      });
      wrap.append(l, control);
      box.append(wrap);
    };
    const input = (value) => { const i = document.createElement("input"); i.value = value || ""; i.autocomplete = "off"; i.spellcheck = false; return i; };
    const select = (options, value) => {
      const sel = document.createElement("select");
      for (const [v, text] of options) sel.append(new Option(text, v, false, v === value));
      return sel;
    };
    field("Id", "id", input(s.data.id));
    field("Name", "name", input(s.data.name));
    field("Kind", "kind", select(this.kinds[s.type].map((k) => [k, k.replace(/_/g, " ")]), s.data.kind));
    if (s.type === "line") {
      field("In is", "direction_in", select([["left", "left of A → B (as the arrow shows)"], ["right", "right of A → B"]], s.data.direction_in));
    }
    const actions = document.createElement("div");
    actions.className = "row wrap shape-actions";
    if (this.canEdit) {
      if (s.type === "zone") {
        const corner = document.createElement("button");
        corner.type = "button";
        corner.className = "btn btn-sm";
        corner.dataset.removeCorner = "";
        corner.textContent = "Remove corner";
        corner.addEventListener("click", () => this.removeCorner());
        actions.append(corner);
      }
      if (s.type === "line") {
        const flip = document.createElement("button");
        flip.type = "button";
        flip.className = "btn btn-sm";
        flip.textContent = "Swap in and out";
        flip.addEventListener("click", () => {
          s.data.direction_in = s.data.direction_in === "right" ? "left" : "right";
          box.querySelector("select[name=direction_in]").value = s.data.direction_in;
          this.changed();
        });
        actions.append(flip);
      }
      const del = document.createElement("button");
      del.type = "button";
      del.className = "btn btn-sm btn-danger-ghost";
      del.textContent = s.type === "zone" ? "Delete zone" : "Delete line";
      del.addEventListener("click", () => this.remove(s));
      actions.append(del);
    }
    const pts = this.points(s);
    const where = document.createElement("p");
    where.className = "muted small shape-points";
    where.textContent = `${pts.length} point${pts.length === 1 ? "" : "s"}: ` + pts.map((q) => `${round(q[0])}, ${round(q[1])}`).join(" · ");
    box.append(actions, where);
    setTimeout(() => this.updateCornerButton(), 0);
    return box;
  }

  updateCornerButton() {
    const b = this.el.list.querySelector("[data-remove-corner]");
    if (b) b.disabled = !(this.selected && this.selected.type === "zone" && this.vertex != null && this.selected.data.polygon.length > 3);
  }

  // --- checking and saving ---------------------------------------------------------------------------------------
  payload() {
    const part = (type) => this.shapes.filter((s) => s.type === type).map((s) => {
      const data = { ...s.data };
      if (type === "zone") data.polygon = data.polygon.map((q) => q.map(round)); else data.points = data.points.map((q) => q.map(round));
      return { was: s.was, data };
    });
    return { version: this.version, zones: part("zone"), lines: part("line") };
  }

  changed() {
    this.dirty = true;
    this.setStatus("Unsaved changes", "dirty");
    this.draw();
    clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => this.check(), 400);
    const pts = this.selected && this.el.list.querySelector(".selected .shape-points");
    if (pts) {
      const p = this.points(this.selected);
      pts.textContent = `${p.length} point${p.length === 1 ? "" : "s"}: ` + p.map((q) => `${round(q[0])}, ${round(q[1])}`).join(" · ");
    }
  }

  async check() {
    const seq = ++this.checkSeq;
    const result = await this.send(this.root.dataset.checkUrl, "POST");
    if (seq !== this.checkSeq || !result) return;
    if (result.status === 200) this.problems(result.body);
  }

  async save() {
    clearTimeout(this.checkTimer);
    this.checkSeq += 1;
    if (!this.el.save) return;
    this.el.save.disabled = true;
    this.setStatus("Saving…");
    const result = await this.send(this.root.dataset.saveUrl, "PUT");
    this.el.save.disabled = false;
    if (!result) return;
    if (result.status === 200) {
      this.version = result.body.version;
      for (const s of this.shapes) { s.was = s.data.id; s.problems = []; }
      this.general = [];
      this.dirty = false;
      this.renderList();
      this.showGeneral();
      this.setStatus("Saved", "saved");
      const backup = result.body.backup ? ` The previous file is kept as ${result.body.backup}.` : "";
      this.notify(result.body.message + backup, "ok");
    } else if (result.status === 422 && result.body.problems) {
      this.problems(result.body);
      this.setStatus("Not saved", "dirty");
      this.notify("Not saved: fix the problems marked in red, then save again.", "error");
    } else {
      this.setStatus("Not saved", "dirty");
      const detail = typeof result.body.detail === "string" ? result.body.detail : "the server refused the change";
      this.notify(`Not saved: ${detail}`, "error");
    }
    this.draw();
  }

  async send(url, method) {
    try {
      const response = await fetch(url, {
        method, credentials: "same-origin", headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify(this.payload()),
      });
      if (response.status === 401) { this.notify("Your session ended: log in again (in another tab) and save.", "error"); return null; }
      let body = {};
      try { body = await response.json(); } catch (e) { /* not JSON */ }
      if (response.status === 409) { this.notify(`${body.detail || "The site file changed."}`, "error"); return null; }
      return { status: response.status, body };
    } catch (e) {
      this.notify("The server cannot be reached; your changes are still here: try again.", "error");
      this.setStatus("Not saved", "dirty");
      return null;
    }
  }

  problems(check) {
    const zones = this.shapes.filter((s) => s.type === "zone"), lines = this.shapes.filter((s) => s.type === "line");
    for (const s of this.shapes) s.problems = [];
    for (const p of check.problems || []) {
      const s = (p.shape === "zone" ? zones : lines)[p.index];
      if (s) s.problems.push(p);
    }
    this.general = check.general || [];
    this.showGeneral();
    this.renderList();
    this.draw();
  }

  showGeneral() {
    const box = this.el.general;
    if (!box) return;
    box.replaceChildren(...this.general.map((text) => { const li = document.createElement("li"); li.textContent = text; return li; }));
    box.hidden = this.general.length === 0;
  }

  setStatus(text, state = "") {
    if (!this.el.status) return;
    this.el.status.textContent = text;
    this.el.status.dataset.state = state;
  }

  notify(text, kind) {
    const n = this.el.notice;
    n.textContent = text;
    n.className = `notice${kind === "error" ? " notice-error" : ""}`;
    n.hidden = false;
  }

  flash(text) { this.notify(text, "error"); }
}
