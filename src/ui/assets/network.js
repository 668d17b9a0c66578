// The network gallery: captures announced by other telescopes (GET /api/network/captures), who
// they are (GET /api/network/peers: location, peer ID, images replicated here, last seen) and
// whether this telescope holds a replica. Replicas pinned here show as thumbnails at once; the
// others are fetched on demand through this telescope's own /ipfs/<cid> gateway when opened.
// Kept current by /ws/ipfs events: content_received (a new announcement), content_pinned (we
// replicated it), replica_update (someone else did), peer_connected/peer_disconnected.

import { get } from "./api.js";
import { $, bytes, el, when } from "./dom.js";
import * as gallery from "./gallery.js";
import * as live from "./live.js";

const VIEWABLE = /^(jpe?g|png)$/i;
let captures = [];
let peers = new Map(); // peer_id -> PEER row
let filter = "";
let timer = null;
let loadedOnce = false;

function shortId(id) {
  return id && id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id || "unknown";
}

/** What the observer calls a telescope: its announced location, else its short peer ID. */
function telescope(node, location) {
  const loc = location || peers.get(node)?.location;
  return loc ? `${loc} (${shortId(node)})` : shortId(node);
}

/** The state of a peer's capture here. */
export function netState(c) {
  const n = typeof c.replicas === "number" ? ` · ${c.replicas} replica${c.replicas === 1 ? "" : "s"}` : "";
  return c.pinned
    ? { key: "replica", text: `replica pinned here${n}` }
    : { key: "remote", text: `not held here (fetched on demand)${n}` };
}

function item(cid) {
  const c = captures.find((x) => x.cid === cid);
  if (!c) return null;
  const what = c.session ? `session ${c.session}` : "single capture";
  return {
    title: `${telescope(c.node, c.location)} · ${what}`,
    cid,
    full: `/ipfs/${cid}`,
    image: VIEWABLE.test(c.kind || ""),
    sync: netState(c),
    pinned: Boolean(c.pinned),
    pinName: `replica of ${shortId(c.node)}${c.session ? ` ${c.session}` : ""}`,
    extra: [
      ["Telescope", c.location || peers.get(c.node)?.location || "location not announced"],
      ["Peer ID", c.node],
      ["Session", c.session || "–"],
      ["Kind", c.kind],
      ["Size", bytes(c.size)],
      ["Captured", when(c.timestamp_ms)],
      ["Announced here", when(c.received_ms)],
    ],
    afterPin: () => load(),
  };
}

function tile(c) {
  const st = netState(c);
  // only replicas we hold are drawn as thumbnails; the rest would make the gateway fetch every
  // full image from the network just to fill the grid
  const thumb = c.pinned && VIEWABLE.test(c.kind || "")
    ? el("img", { src: `/ipfs/${c.cid}`, alt: `${c.kind} from ${telescope(c.node, c.location)}`, loading: "lazy" })
    : el("div", { class: "thumb-none" }, c.kind ? c.kind.toUpperCase() : "?", el("span", { class: "small" }, "opens on demand"));
  const li = el("li", { dataset: { cid: c.cid, node: c.node, session: c.session || "", kind: c.kind || "", sync: st.key } },
    thumb,
    el("div", { class: "cap" },
      el("div", { class: "telescope" }, telescope(c.node, c.location)),
      el("div", {}, c.session || "single capture", " · ", bytes(c.size), " · ", when(c.timestamp_ms)),
      el("span", { class: "sync", dataset: { sync: st.key } }, st.text),
      el("code", {}, c.cid)));
  return gallery.clickable(li, "network", c.cid);
}

function renderFilter() {
  const sel = $("network-peer");
  const nodes = [...new Set([...captures.map((c) => c.node), ...[...peers.values()].filter((p) => p.is_wanda_node).map((p) => p.peer_id)])];
  const want = ["", ...nodes];
  if (filter && !want.includes(filter)) want.push(filter);
  const label = (n) => {
    if (!n) return "All telescopes";
    const count = captures.filter((c) => c.node === n).length;
    return `${telescope(n)} — ${count} capture${count === 1 ? "" : "s"}`;
  };
  const have = [...sel.options].map((o) => `${o.value}|${o.textContent}`).join("\n");
  if (have === want.map((n) => `${n}|${label(n)}`).join("\n")) return;
  sel.replaceChildren(...want.map((n) => el("option", { value: n }, label(n))));
  sel.value = filter;
}

function renderPeers() {
  const rows = [...peers.values()].filter((p) => p.is_wanda_node || captures.some((c) => c.node === p.peer_id));
  const items = rows.map((p) => el("li", { dataset: { peer: p.peer_id } },
    el("strong", {}, p.location || "location not announced"),
    el("code", {}, p.peer_id),
    el("span", { class: "muted" }, `${p.images_shared ?? 0} replicated here · last seen ${when(p.last_seen_ms)}`)));
  if (!items.length) items.push(el("li", { class: "muted" }, "No other telescope met yet."));
  $("network-peers").replaceChildren(...items);
}

function render() {
  const shown = captures.filter((c) => !filter || c.node === filter);
  $("network-gallery").replaceChildren(...shown.map(tile));
  $("network-empty").hidden = shown.length > 0;
  const count = captures.length;
  $("tab-network").textContent = count ? `Network (${count})` : "Network";
  renderFilter();
  renderPeers();
  gallery.refreshDetail();
}

async function load() {
  const [caps, ps] = await Promise.allSettled([get("/api/network/captures"), get("/api/network/peers")]);
  if (caps.status === "fulfilled") {
    captures = caps.value.captures || [];
    $("network-empty").textContent = "No captures from other telescopes yet.";
  } else {
    $("network-empty").textContent = `${caps.reason.title}: ${caps.reason.message}`;
  }
  if (ps.status === "fulfilled") peers = new Map((ps.value.peers || []).map((p) => [p.peer_id, p]));
  loadedOnce = true;
  render();
}

function scheduleLoad(ms = 300) {
  clearTimeout(timer);
  timer = setTimeout(load, ms);
}

/** Wires the network gallery. */
export function init() {
  gallery.registerSource("network", item);
  $("network-refresh").addEventListener("click", load);
  $("network-peer").addEventListener("change", (e) => {
    filter = e.target.value;
    render();
  });
  document.addEventListener("wanda-tab", (e) => { if (e.detail === "network" && loadedOnce) scheduleLoad(0); });
  for (const ev of ["content_received", "content_pinned", "replica_update", "peer_connected", "peer_disconnected"]) {
    live.on("/ws/ipfs", ev, () => scheduleLoad());
  }
  live.onReconnect(() => scheduleLoad(0));
  load();
}
