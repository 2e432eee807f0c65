// storewatch dashboard: the little the pages need from JavaScript. Everything works without it except the live feed.
// - selects marked data-autosubmit submit their form when changed;
// - tables marked data-sortable sort by a column whose heading has data-sort (a cell's data-value, else its text);
// - a form posted without the session's CSRF token (a feed card the live feed pushed) gets it from the page's
//   <meta name="csrf-token"> (fetch calls send it as the X-CSRF-Token header: see csrfToken());
// - the alerts page follows /api/v1/stream (server-sent events) and puts each new or changed alert in place,
//   rendered by the server, so the card looks the same however it arrived: the feed pushes each changed card
//   (alert_card messages, rendered once for every browser); without one, the page fetches /alerts/<id>/card.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post" || form.elements.csrf_token) return;
  const field = document.createElement("input");
  field.type = "hidden";
  field.name = "csrf_token";
  field.value = csrfToken();
  form.append(field);
}, true);

document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      field.select();
      try { await navigator.clipboard.writeText(field.value); button.textContent = "Copied"; } catch (e) { /* selected */ }
    });
  }
  for (const table of document.querySelectorAll("table[data-sortable]")) sortable(table);
  const feed = document.querySelector("[data-feed]");
  if (feed) followFeed(feed);
  const job = document.querySelector("[data-job]");
  if (job && ["waiting", "running"].includes(job.dataset.jobState)) followJob(job);
});

// A job's page: polls /api/v1/jobs/<id> twice a second, moving the bar; when the job ends the page is loaded again
// (the server renders the file link, the error or the outcome, e.g. a backtest's table).
function followJob(box) {
  const q = (name) => box.querySelector(`[data-job-${name}]`);
  const show = (job) => {
    const percent = Math.round(job.progress * 100);
    q("bar").setAttribute("aria-valuenow", percent);
    q("bar").firstElementChild.style.width = `${percent}%`;
    q("percent").textContent = `${percent} %`;
    q("message").textContent = job.message;
    q("badge").textContent = job.state.charAt(0).toUpperCase() + job.state.slice(1);
    q("badge").className = `badge job-state-${job.state}`;
    box.dataset.jobState = job.state;
    if (job.error) { q("error").textContent = job.error; q("error").hidden = false; }
    if (job.file_url) {
      q("link").href = job.file_url;
      q("link").textContent = `Download ${job.file_name}`;
      q("file").hidden = false;
    }
  };
  const poll = async () => {
    try {
      const reply = await fetch(`/api/v1/jobs/${box.dataset.job}`, { headers: { Accept: "application/json" } });
      if (reply.ok) {
        const job = await reply.json();
        show(job);
        if (job.state === "done" || job.state === "failed") { window.location.reload(); return; }
      }
    } catch (err) { /* offline for a moment: try again */ }
    setTimeout(poll, 500);
  };
  setTimeout(poll, 300);
}

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

  // The page shows everything up to data-feed-position: what the stream replays up to there is older than the page.
  const [pageFeed, pageNumber] = (feed.dataset.feedPosition || "").split("-");
  const older = (message) => {
    const [id, number] = (message.lastEventId || "").split("-");
    return id === pageFeed && Number(number) <= Number(pageNumber);
  };
  const shown = new Map(); // alert id -> what its card showed when last placed
  const pushed = new Map(); // alert id -> the newest card HTML the feed pushed
  const busy = (el) => el.contains(document.activeElement) || el.querySelector("details[open]");
  source.addEventListener("alert_card", (message) => {
    if (older(message)) return;
    const { id, html } = JSON.parse(message.data);
    pushed.set(id, html);
    const existing = document.getElementById(`alert-${id}`);
    if (existing && !busy(existing)) existing.replaceWith(parseCard(html)); // e.g. its incident link arrived
  });
  source.addEventListener("alert", async (message) => {
    if (older(message)) return;
    const alert = JSON.parse(message.data);
    const existing = document.getElementById(`alert-${alert.id}`);
    const looks = cardLooks(alert);
    if (existing && shown.get(alert.id) === looks) return; // only a clip or path picture arrived: the card is the same
    const wanted = (!wantStatus || alert.status === wantStatus) && (!wantStore || alert.store === wantStore);
    if (!wanted) {
      if (existing && !existing.contains(document.activeElement)) existing.remove();
      if (empty) empty.hidden = feed.children.length > 0;
      return;
    }
    if (existing && busy(existing)) {
      return; // someone is typing a false-alarm reason in this card: leave it alone
    }
    const card = pushed.has(alert.id) ? parseCard(pushed.get(alert.id)) : await fetchCard(alert.id);
    if (!card) return;
    shown.set(alert.id, looks);
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

function cardLooks(alert) {
  // Every field _alert_card.html shows: a message that changes none of them needs no new card.
  const { status, level, explanation, evidence, incident_ids, acknowledged_by, false_alarm_reason, time_to_ack_s } = alert;
  return JSON.stringify([status, level, explanation, evidence && evidence.snapshot, incident_ids && incident_ids[0],
    acknowledged_by, false_alarm_reason, time_to_ack_s]);
}

async function fetchCard(id) {
  const response = await fetch(`/alerts/${encodeURIComponent(id)}/card`, { credentials: "same-origin" });
  if (response.redirected || response.status === 401) { window.location.reload(); return null; }
  if (!response.ok) return null;
  return parseCard(await response.text());
}

function parseCard(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
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

// A table sorted by clicking a column heading: numbers as numbers, text as text; descending first (most first).
function sortable(table) {
  const heads = [...table.tHead.rows[0].cells];
  heads.forEach((th, i) => {
    if (!("sort" in th.dataset)) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.textContent = th.textContent;
    th.textContent = "";
    th.append(button);
    th.setAttribute("aria-sort", "none");
    button.addEventListener("click", () => {
      const dir = th.getAttribute("aria-sort") === "descending" ? "ascending" : "descending";
      for (const other of heads) if (other.hasAttribute("aria-sort")) other.setAttribute("aria-sort", "none");
      th.setAttribute("aria-sort", dir);
      const key = (row) => {
        const cell = row.cells[i];
        const text = (cell.dataset.value ?? cell.textContent).trim();
        return text !== "" && !Number.isNaN(Number(text)) ? Number(text) : text.toLowerCase();
      };
      const rows = [...table.tBodies[0].rows].sort((a, b) => {
        const x = key(a), y = key(b);
        const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return dir === "ascending" ? order : -order;
      });
      table.tBodies[0].append(...rows);
    });
  });
}
