// Sessions: start (rapid or timed, count, hours, tracking), progress, stop, and the history of
// session folders (each opens in the gallery).

import { get, post, titleFor } from "./api.js";
import { $, busy, duration, el, notify } from "./dom.js";
import * as live from "./live.js";

let lastName = "";

function showStatus(s) {
  if (!s) return;
  const active = Boolean(s.active ?? s.running);
  $("session-start").disabled = active;
  $("session-stop").disabled = !active;
  const box = $("session-progress");
  box.hidden = !active && !s.name;
  box.dataset.status = s.status || (active ? "running" : "idle");
  const done = s.captured_images ?? s.images_captured ?? 0;
  const total = s.total_images || 0;
  $("session-bar").value = typeof s.progress === "number" ? s.progress : total ? (100 * done) / total : 0;
  const parts = [`${s.name || "session"}: ${done}/${total} images`, s.status || ""];
  if (typeof s.elapsed_time === "number") parts.push(`elapsed ${duration(s.elapsed_time)}`);
  if (active && typeof s.eta_seconds === "number") parts.push(`ETA ${duration(s.eta_seconds)}`);
  if (s.error) parts.push(`error: ${s.error}`);
  $("session-text").textContent = parts.filter(Boolean).join(" · ");
  if (s.name && s.name !== lastName) {
    lastName = s.name;
    loadHistory();
  }
}

async function loadHistory() {
  const list = $("session-history");
  let folders;
  try {
    folders = (await get("/api/captures/folders")).folders || [];
  } catch (e) {
    list.replaceChildren(el("li", { class: "muted" }, `${e.title}: ${e.message}`));
    return;
  }
  document.dispatchEvent(new CustomEvent("wanda-folders", { detail: folders }));
  if (!folders.length) {
    list.replaceChildren(el("li", { class: "muted" }, "No sessions yet."));
    return;
  }
  const items = await Promise.all(folders.slice(-30).reverse().map(async (f) => {
    let text = "";
    try {
      const caps = ((await get(`/api/captures?folder=${encodeURIComponent(f)}`)).captures || []).filter((c) => c.ipfs);
      const published = caps.filter((c) => c.ipfs.cid).length;
      text = `${caps.length} images, ${published} published`;
    } catch (e) {
      text = e.message;
    }
    const open = el("button", { type: "button" }, "Open");
    open.addEventListener("click", () => document.dispatchEvent(new CustomEvent("wanda-open-folder", { detail: f })));
    return el("li", { dataset: { folder: f } }, el("strong", {}, f), el("span", { class: "muted" }, text), open);
  }));
  list.replaceChildren(...items);
}

function modeChanged() {
  $("session-hours-label").hidden = $("session-mode").value !== "timed";
}

async function refresh() {
  try {
    showStatus(await get("/api/session/status"));
  } catch (e) {
    $("session-text").textContent = `${e.title}: ${e.message}`;
  }
  loadHistory();
}

/** Wires the session panel. */
export function init() {
  $("session-mode").addEventListener("change", modeChanged);
  modeChanged();
  $("session-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy($("session-start"), async () => {
      const body = {
        name: $("session-name").value.trim(),
        total_images: Number($("session-count").value),
        enable_tracking: $("session-tracking").checked,
        use_current_settings: true,
      };
      if ($("session-mode").value === "timed") body.total_time_hours = Number($("session-hours").value);
      const d = await post("/api/session/start", body);
      showStatus(d.session_status);
      document.dispatchEvent(new CustomEvent("wanda-open-folder", { detail: body.name }));
    });
  });
  $("session-stop").addEventListener("click", () =>
    busy($("session-stop"), async () => {
      const d = await post("/api/session/stop");
      showStatus(d.session_status);
    }));
  for (const ev of ["status", "session_start", "session_progress", "session_complete", "session_stop"]) {
    live.on("/ws/session", ev, showStatus);
  }
  live.on("/ws/session", "session_complete", () => loadHistory());
  live.on("/ws/session", "session_error", (d) => {
    showStatus(d);
    notify("Session failed", d.error || "the session stopped with an error");
  });
  live.on("/ws/ipfs", "storage_alert", (d) => notify(titleFor(d.code || "IPFS_STORAGE_FULL"), d.error || "no space left for captures"));
  live.onReconnect(refresh);
  refresh();
}
