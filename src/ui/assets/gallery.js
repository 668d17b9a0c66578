// Gallery: the captures of one folder with thumbnails and their IPFS state (saved / queued /
// published / announced, replicas when known); a detail view with the full image through its
// /ipfs/<cid> link, the CID with a copy button, the gateway link and its QR code, pin/unpin.

import { del, get, post } from "./api.js";
import { $, busy, el, notify } from "./dom.js";
import * as live from "./live.js";
import { drawQr } from "./qr.js";

const IMAGE = /\.(jpe?g|png|dng|pgm|tiff?)$/i;
let folder = "";
let captures = [];
let selected = null; // path of the capture in the detail view
const pinOverride = new Map(); // cid -> pinned, after this page pinned/unpinned it
let refreshTimer = null;

/** The state of a capture as the observer should read it. */
export function syncState(c) {
  const i = c.ipfs;
  if (!i) return { key: "saved", text: "saved" };
  if (!i.cid) return i.error ? { key: "error", text: `queued (retrying: ${i.error})` } : { key: "queued", text: "queued" };
  const replicas = typeof i.replicas === "number" ? ` · ${i.replicas} replica${i.replicas === 1 ? "" : "s"}` : "";
  return i.synced ? { key: "announced", text: `announced${replicas}` } : { key: "published", text: `published${replicas}` };
}

function pinned(c) {
  const cid = c.ipfs?.cid;
  if (!cid) return false;
  return pinOverride.has(cid) ? pinOverride.get(cid) : Boolean(c.ipfs.pinned);
}

function fileUrl(path) {
  return `/api/captures/${path.split("/").map(encodeURIComponent).join("/")}`;
}

function gatewayUrl(cid) {
  return `${location.origin}/ipfs/${cid}`;
}

function tile(c) {
  const st = syncState(c);
  const src = c.thumbnail || (/\.(jpe?g|png)$/i.test(c.name) ? fileUrl(c.path) : undefined);
  const li = el("li", {
    tabindex: "0",
    role: "option",
    "aria-selected": String(c.path === selected),
    dataset: { path: c.path, cid: c.ipfs?.cid || "", sync: st.key },
  },
  el("img", { src, alt: c.name, loading: "lazy" }),
  el("div", { class: "cap" },
    el("div", {}, c.name, " ", el("span", { class: "sync", dataset: { sync: st.key } }, st.text)),
    el("code", {}, c.ipfs?.cid || "no CID yet")));
  const open = () => showDetail(c.path);
  li.addEventListener("click", open);
  li.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
  return li;
}

function render() {
  const list = $("gallery");
  const shown = captures.filter((c) => c.ipfs || IMAGE.test(c.name));
  list.replaceChildren(...shown.map(tile));
  $("gallery-empty").hidden = shown.length > 0;
  if (selected) showDetail(selected, false);
}

async function load() {
  try {
    const d = await get(`/api/captures${folder ? `?folder=${encodeURIComponent(folder)}` : ""}`);
    captures = d.captures || [];
  } catch (e) {
    captures = [];
    $("gallery-empty").textContent = `${e.title}: ${e.message}`;
  }
  render();
}

function scheduleLoad() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(load, 250);
}

function showDetail(path, scroll = true) {
  const c = captures.find((x) => x.path === path);
  const box = $("detail");
  if (!c) {
    box.hidden = true;
    selected = null;
    return;
  }
  const first = selected !== path || box.hidden;
  selected = path;
  for (const li of $("gallery").children) li.setAttribute("aria-selected", String(li.dataset.path === path));
  box.hidden = false;
  box.dataset.path = path;
  $("detail-name").textContent = c.path;
  const st = syncState(c);
  const sync = $("detail-sync");
  sync.textContent = st.text;
  sync.dataset.sync = st.key;
  const cid = c.ipfs?.cid || "";
  const full = cid ? `/ipfs/${cid}` : fileUrl(c.path);
  const a = $("detail-full");
  a.href = full;
  if ($("detail-img").getAttribute("src") !== full) $("detail-img").src = full;
  $("detail-cid").textContent = cid || "not published yet";
  $("detail-copy").disabled = !cid;
  const gw = $("detail-gateway");
  gw.hidden = !cid;
  $("detail-qr").hidden = !cid;
  $("detail-url").textContent = cid ? gatewayUrl(cid) : "";
  if (cid) {
    gw.href = gatewayUrl(cid);
    drawQrFor(cid);
  }
  const isPinned = pinned(c);
  box.dataset.pinned = String(isPinned);
  $("detail-pin").disabled = !cid || isPinned;
  $("detail-unpin").disabled = !cid || !isPinned;
  if (first && scroll) box.scrollIntoView({ block: "nearest" });
}

function drawQrFor(cid) {
  const css = getComputedStyle(document.documentElement);
  const canvas = $("detail-qr");
  try {
    drawQr(canvas, gatewayUrl(cid), {
      dark: css.getPropertyValue("--qr-dark").trim() || "#000",
      light: css.getPropertyValue("--qr-light").trim() || "#fff",
    });
    canvas.dataset.text = gatewayUrl(cid);
  } catch (e) {
    canvas.hidden = true;
    notify("QR code", e.message);
  }
}

async function copyCid() {
  const cid = $("detail-cid").textContent;
  try {
    await navigator.clipboard.writeText(cid);
  } catch {
    // plain http on the LAN is not a secure context: fall back to a selection copy
    const t = el("textarea", { readonly: true, style: "position:fixed;opacity:0" }, cid);
    document.body.append(t);
    t.select();
    const ok = document.execCommand("copy");
    t.remove();
    if (!ok) {
      notify("Copy", "select the CID and copy it by hand");
      return;
    }
  }
  notify("Copied", cid, "info");
}

async function setPin(pin) {
  const c = captures.find((x) => x.path === selected);
  const cid = c?.ipfs?.cid;
  if (!cid) return;
  const btn = $(pin ? "detail-pin" : "detail-unpin");
  await busy(btn, async () => {
    if (pin) await post("/api/ipfs/pins", { cid, recursive: true, name: c.name });
    else await del(`/api/ipfs/pins/${encodeURIComponent(cid)}`);
    pinOverride.set(cid, pin);
    notify(pin ? "Pinned" : "Unpinned", `${c.name} (${cid})`, "info");
  });
  showDetail(selected, false);
}

function setFolders(folders) {
  const sel = $("gallery-folder");
  const want = ["", ...folders];
  if (folder && !want.includes(folder)) want.push(folder);
  const have = [...sel.options].map((o) => o.value);
  if (have.join("\n") === want.join("\n")) return;
  sel.replaceChildren(...want.map((f) => el("option", { value: f }, f || "Single captures")));
  sel.value = folder;
}

function openFolder(f) {
  if (f === folder) {
    scheduleLoad();
    return;
  }
  folder = f;
  selected = null;
  $("detail").hidden = true;
  setFolders([...$("gallery-folder").options].map((o) => o.value).filter(Boolean));
  $("gallery-folder").value = f;
  load();
}

/** Wires the gallery. */
export function init() {
  $("gallery-folder").addEventListener("change", (e) => openFolder(e.target.value));
  $("gallery-refresh").addEventListener("click", load);
  $("detail-close").addEventListener("click", () => { $("detail").hidden = true; selected = null; render(); });
  $("detail-copy").addEventListener("click", copyCid);
  $("detail-pin").addEventListener("click", () => setPin(true));
  $("detail-unpin").addEventListener("click", () => setPin(false));
  document.addEventListener("wanda-folders", (e) => setFolders(e.detail));
  document.addEventListener("wanda-open-folder", (e) => openFolder(e.detail));
  document.addEventListener("wanda-theme", () => { if (selected) showDetail(selected, false); });
  for (const ev of ["ipfs_upload_started", "ipfs_upload_complete", "content_announced", "ipfs_upload_error"]) {
    live.on("/ws/ipfs", ev, (d) => { if ((d.session || "") === folder) scheduleLoad(); });
  }
  live.on("/ws/camera", "capture_complete", () => { if (!folder) scheduleLoad(); });
  live.on("/ws/session", "session_progress", (d) => { if (d.name === folder) scheduleLoad(); });
  live.onReconnect(load);
  load();
}
