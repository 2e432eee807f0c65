// storewatch dashboard: the little the pages need from JavaScript. Everything works without it except the live feed.
// - selects marked data-autosubmit submit their form when changed;
// - the alerts page follows /api/v1/stream (server-sent events) and puts each new or changed alert in place,
//   rendered by the server (/alerts/<id>/card), so the card looks the same however it arrived.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  const feed = document.querySelector("[data-feed]");
  if (feed) followFeed(feed);
});

function followFeed(feed) {
  const badge = document.querySelector("[data-live-state]");
  const dot = document.querySelector("[data-live-dot]");
  const empty = document.querySelector("[data-feed-empty]");
  const wantStatus = feed.dataset.filterStatus;
  const wantStore = feed.dataset.filterStore;
  const source = new EventSource("/api/v1/stream");

  const setState = (state, text) => {
    if (badge) { badge.dataset.liveState = state; badge.textContent = text; }
    if (dot) dot.hidden = state !== "live";
  };
  source.addEventListener("open", () => setState("live", "Live"));
  source.addEventListener("error", () => setState("connecting", "Reconnecting…"));

  source.addEventListener("alert", async (message) => {
    const alert = JSON.parse(message.data);
    const existing = document.getElementById(`alert-${alert.id}`);
    const wanted = (!wantStatus || alert.status === wantStatus) && (!wantStore || alert.store === wantStore);
    if (!wanted) {
      if (existing && !existing.contains(document.activeElement)) existing.remove();
      if (empty) empty.hidden = feed.children.length > 0;
      return;
    }
    if (existing && (existing.contains(document.activeElement) || existing.querySelector("details[open]"))) {
      return; // someone is typing a false-alarm reason in this card: leave it alone
    }
    const card = await fetchCard(alert.id);
    if (!card) return;
    const current = document.getElementById(`alert-${alert.id}`);
    if (current) {
      current.replaceWith(card);
    } else {
      card.classList.add("is-new");
      feed.prepend(card);
      toast(alert);
    }
    if (empty) empty.hidden = true;
  });
}

async function fetchCard(id) {
  const response = await fetch(`/alerts/${encodeURIComponent(id)}/card`, { credentials: "same-origin" });
  if (response.redirected || response.status === 401) { window.location.reload(); return null; }
  if (!response.ok) return null;
  const template = document.createElement("template");
  template.innerHTML = (await response.text()).trim();
  return template.content.querySelector("article");
}

function toast(alert) {
  const box = document.querySelector("[data-toasts]");
  if (!box) return;
  const item = document.createElement("a");
  item.className = "toast";
  item.href = `/alerts/${encodeURIComponent(alert.id)}`;
  const title = document.createElement("strong");
  title.textContent = `New alert: ${alert.title}`;
  const where = document.createElement("span");
  where.textContent = alert.camera;
  item.append(title, where);
  box.append(item);
  setTimeout(() => item.remove(), 6000);
}
