// Gallery: two tabs, "This telescope" (the captures of one folder with thumbnails and their IPFS
// state: saved / queued / published / announced, replicas when known) and "Network" (captures
// announced by other telescopes, network.js). One detail view serves both: the full image
// through its /ipfs/<cid> link, the CID with a copy button, the gateway link and its QR code,
// pin/unpin, and what else the source knows (telescope, session, size, times).

import { del, get, post } from "./api.js";
import { $, busy, bytes, el, notify, when } from "./dom.js";
import * as live from "./live.js";
import { drawQr } from "./qr.js";

const IMAGE = /\.(jpe?g|png|dng|pgm|tiff?)$/i;
const VIEWABLE = /\.(jpe?g|png)$/i;
let folder = "";
let captures = [];
let selected = null; // {source, key} of the item in the detail view
const pinOverride = new Map(); // cid -> pinned, after this page pinned/unpinned a local capture
let refreshTimer = null;

/**
 * Sources of detail items: `source -> (key) => item | null`. An item is
 * `{title, cid, full, image, sync: {key, text}, pinned, pinName, extra: [[label, value]], afterPin}`.
 */
const sources = {
  local: (path) => {
    const c = captures.find((x) => x.path === path);
    if (!c) return null;
    const cid = c.ipfs?.cid || "";
    return {
      title: c.path,
      cid,
      full: cid ? `/ipfs/${cid}` : fileUrl(c.path),
      image: VIEWABLE.test(c.name),
      sync: syncState(c),
      pinned: pinned(c),
      pinName: c.name,
      extra: [
        ["Size", typeof c.size === "number" ? bytes(c.size) : undefined],
        ["Saved", typeof c.modified === "number" && c.modified > 0 ? when(c.modified * 1000) : undefined],
      ],
      afterPin: (cid2, pin) => pinOverride.set(cid2, pin),
    };
  },
};

/** Adds a source of detail items (`network` from network.js). */
export function registerSource(name, lookup) {
  sources[name] = lookup;
}

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

/** `<page origin>/ipfs/<cid>`: what the link, the QR code and Copy refer to. */
export function gatewayUrl(cid) {
  return `${location.origin}/ipfs/${cid}`;
}

function isSelected(source, key) {
  return Boolean(selected && selected.source === source && selected.key === key);
}

/** Makes `li` open the detail of (source, key) on click, Enter or Space. */
export function clickable(li, source, key) {
  li.setAttribute("tabindex", "0");
  li.setAttribute("role", "option");
  li.setAttribute("aria-selected", String(isSelected(source, key)));
  const open = () => showDetail(source, key);
  li.addEventListener("click", open);
  li.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
  return li;
}

function tile(c) {
  const st = syncState(c);
  const src = c.thumbnail || (VIEWABLE.test(c.name) ? fileUrl(c.path) : undefined);
  const li = el("li", { dataset: { path: c.path, cid: c.ipfs?.cid || "", sync: st.key } },
    src ? el("img", { src, alt: c.name, loading: "lazy" }) : el("div", { class: "thumb-none" }, c.name.split(".").pop().toUpperCase()),
    el("div", { class: "cap" },
      el("div", {}, c.name, " ", el("span", { class: "sync", dataset: { sync: st.key } }, st.text)),
      el("code", {}, c.ipfs?.cid || "no CID yet")));
  return clickable(li, "local", c.path);
}

function render() {
  const list = $("gallery");
  const shown = captures.filter((c) => c.ipfs || IMAGE.test(c.name));
  list.replaceChildren(...shown.map(tile));
  $("gallery-empty").hidden = shown.length > 0;
  if (selected?.source === "local") refreshDetail();
}

async function load() {
  try {
    const d = await get(`/api/captures${folder ? `?folder=${encodeURIComponent(folder)}` : ""}`);
    captures = d.captures || [];
    $("gallery-empty").textContent = "No captures yet.";
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

/** Redraws the detail view from its source (after the source reloaded). */
export function refreshDetail() {
  if (selected) showDetail(selected.source, selected.key, false);
}

function closeDetail() {
  $("detail").hidden = true;
  selected = null;
  for (const li of document.querySelectorAll("#gallery-card li[aria-selected]")) li.setAttribute("aria-selected", "false");
}

/** Shows the detail of `key` from `source` ("local": a capture path, "network": a CID). */
export function showDetail(source, key, scroll = true) {
  const item = sources[source]?.(key);
  const box = $("detail");
  if (!item) {
    closeDetail();
    return;
  }
  const first = !isSelected(source, key) || box.hidden;
  selected = { source, key };
  const listId = source === "local" ? "gallery" : "network-gallery";
  for (const li of document.querySelectorAll("#gallery-card li[aria-selected]")) {
    const k = source === "local" ? li.dataset.path : li.dataset.cid;
    li.setAttribute("aria-selected", String(li.parentElement.id === listId && k === key));
  }
  box.hidden = false;
  box.dataset.source = source;
  box.dataset.key = key;
  box.dataset.path = source === "local" ? key : "";
  $("detail-name").textContent = item.title;
  const sync = $("detail-sync");
  sync.textContent = item.sync.text;
  sync.dataset.sync = item.sync.key;
  const cid = item.cid || "";
  $("detail-full").href = item.full;
  const img = $("detail-img");
  img.hidden = !item.image;
  if (item.image && img.getAttribute("src") !== item.full) {
    $("detail-img-note").hidden = true;
    img.src = item.full;
  }
  if (!item.image) {
    img.removeAttribute("src");
    $("detail-img-note").hidden = false;
    $("detail-img-note").textContent = "No preview for this kind of file: open it with the link.";
  }
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
  $("detail-extra").replaceChildren(...item.extra.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .flatMap(([k, v]) => [el("dt", {}, k), el("dd", { dataset: { key: k } }, v)]));
  box.dataset.pinned = String(item.pinned);
  $("detail-pin").disabled = !cid || item.pinned;
  $("detail-unpin").disabled = !cid || !item.pinned;
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
  if (!selected) return;
  const { source, key } = selected;
  const item = sources[source]?.(key);
  const cid = item?.cid;
  if (!cid) return;
  const btn = $(pin ? "detail-pin" : "detail-unpin");
  const done = await busy(btn, async () => {
    if (pin) await post("/api/ipfs/pins", { cid, recursive: true, name: item.pinName });
    else await del(`/api/ipfs/pins/${encodeURIComponent(cid)}`);
    notify(pin ? "Pinned" : "Unpinned", `${item.pinName} (${cid})`, "info");
    return true;
  });
  if (done) await item.afterPin?.(cid, pin);
  if (isSelected(source, key)) showDetail(source, key, false);
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
  showTab("local");
  if (f === folder) {
    scheduleLoad();
    return;
  }
  folder = f;
  closeDetail();
  setFolders([...$("gallery-folder").options].map((o) => o.value).filter(Boolean));
  $("gallery-folder").value = f;
  load();
}

/** Shows the "local" or "network" tab; the detail view closes when the tab changes. */
export function showTab(name) {
  const was = $("tab-network").getAttribute("aria-selected") === "true" ? "network" : "local";
  $("tab-local").setAttribute("aria-selected", String(name === "local"));
  $("tab-network").setAttribute("aria-selected", String(name === "network"));
  $("local-pane").hidden = name !== "local";
  $("network-pane").hidden = name !== "network";
  if (was !== name) {
    closeDetail();
    document.dispatchEvent(new CustomEvent("wanda-tab", { detail: name }));
  }
}

/** Wires the gallery. */
export function init() {
  $("tab-local").addEventListener("click", () => showTab("local"));
  $("tab-network").addEventListener("click", () => showTab("network"));
  $("gallery-folder").addEventListener("change", (e) => openFolder(e.target.value));
  $("gallery-refresh").addEventListener("click", load);
  $("detail-close").addEventListener("click", closeDetail);
  $("detail-copy").addEventListener("click", copyCid);
  $("detail-pin").addEventListener("click", () => setPin(true));
  $("detail-unpin").addEventListener("click", () => setPin(false));
  $("detail-img").addEventListener("error", () => {
    if (!$("detail-img").getAttribute("src")) return;
    $("detail-img-note").hidden = false;
    $("detail-img-note").textContent = "The image could not be loaded (not on this telescope and no peer delivered it in time).";
  });
  $("detail-img").addEventListener("load", () => { $("detail-img-note").hidden = true; });
  document.addEventListener("wanda-folders", (e) => setFolders(e.detail));
  document.addEventListener("wanda-open-folder", (e) => openFolder(e.detail));
  document.addEventListener("wanda-theme", refreshDetail);
  for (const ev of ["ipfs_upload_started", "ipfs_upload_complete", "content_announced", "ipfs_upload_error"]) {
    live.on("/ws/ipfs", ev, (d) => { if ((d.session || "") === folder) scheduleLoad(); });
  }
  // a peer pinned one of ours: the replica count changed
  live.on("/ws/ipfs", "replica_update", (d) => { if (d.ours) scheduleLoad(); });
  live.on("/ws/camera", "capture_complete", () => { if (!folder) scheduleLoad(); });
  live.on("/ws/session", "session_progress", (d) => { if (d.name === folder) scheduleLoad(); });
  live.onReconnect(load);
  load();
}
