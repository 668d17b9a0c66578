// IPFS panel: node status (peer ID, addresses, connected and WANDA peers, repo size against its
// maximum, bandwidth), the peer list and connecting to a multiaddr. Uses the IPFS REST routes
// (/api/ipfs/status, /stats, /peers, /peers/connect) and /ws/ipfs events.

import { get, post, titleFor } from "./api.js";
import { $, busy, bytes, el, notify, pick } from "./dom.js";
import * as live from "./live.js";

let timer = null;
let wasFull = false;
const info = { status: null, stats: null, peers: null, live: null, error: null };

function setBadge(online, text) {
  const b = $("ipfs-state");
  b.dataset.state = online ? "online" : "offline";
  b.textContent = text;
}

function rate(v) {
  if (typeof v === "number") return `${bytes(v)}/s`;
  return v ?? "–";
}

function render() {
  const s = info.status || {}, st = info.stats || {}, p = info.peers || {}, lv = info.live || {};
  const full = pick(s, "repo.full") === true;
  const online = info.error ? false : pick(s, "daemon_running", "online") ?? lv.online ?? Boolean(info.status);
  setBadge(online, online ? "IPFS online" : "IPFS offline");
  if (full && !wasFull) notify("Storage full", "the IPFS repo has reached its maximum; new captures may be refused");
  wasFull = full;
  const peerId = pick(s, "peer_id", "node_id", "id") ?? lv.peer_id ?? "–";
  const addrs = pick(s, "addresses") || [];
  const used = pick(s, "repo.size_bytes", "storage.repo_size_bytes") ?? pick(st, "disk_bytes", "storage.repo_size_bytes");
  const max = pick(s, "repo.max_bytes", "storage.storage_max_bytes") ?? pick(st, "max_bytes", "storage.storage_max_bytes");
  const pct = pick(s, "repo.used_percent", "storage.usage_percent") ?? (used !== undefined && max ? (100 * used) / max : undefined);
  const connected = pick(s, "peers", "network.peers_connected") ?? pick(p, "count", "all_peers");
  const wanda = pick(s, "wanda_peers", "wanda_network.connected_nodes");
  const bw = pick(s, "bandwidth") ?? pick(st, "bandwidth") ?? {};
  const pins = pick(st, "pins.total");
  const rows = [
    ["Peer ID", peerId],
    ["Addresses", addrs.length ? addrs.join("\n") : "–"],
    ["Connected peers", connected ?? "–"],
    ["WANDA peers", wanda ?? "–"],
    ["Repo", used !== undefined ? `${bytes(used)} of ${bytes(max)}${pct !== undefined ? ` (${Number(pct).toFixed(1)} %)` : ""}${full ? " — storage full" : ""}` : "–"],
    ["Pins", pins ?? "–"],
    ["Bandwidth", `in ${rate(pick(bw, "rate_in"))} · out ${rate(pick(bw, "rate_out"))} (total ${bytes(pick(bw, "total_in"))} in, ${bytes(pick(bw, "total_out"))} out)`],
  ];
  if (lv.root_cid) rows.push(["All sessions", el("a", { href: `/ipfs/${lv.root_cid}/`, target: "_blank", rel: "noopener" }, lv.root_cid)]);
  if (info.error) rows.unshift(["Error", `${info.error.title}: ${info.error.message}`]);
  $("ipfs-info").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { dataset: { key: k } }, v)]));
  $("repo-bar").style.width = `${Math.min(100, Math.max(0, Number(pct) || 0))}%`;
  renderPeers(p);
}

function renderPeers(p) {
  const list = [];
  const seen = new Set();
  for (const n of p.wanda_nodes || []) {
    const id = pick(n, "node_id", "peer_id");
    seen.add(id);
    list.push(el("li", { dataset: { peer: id } }, el("strong", {}, "WANDA"), el("code", {}, id),
      el("span", { class: "muted" }, [n.name, n.connected === false ? "disconnected" : "connected"].filter(Boolean).join(" · "))));
  }
  for (const n of p.peers || []) {
    const id = pick(n, "peer_id", "node_id", "id");
    if (seen.has(id)) continue;
    list.push(el("li", { dataset: { peer: id } }, n.is_wanda_node ? el("strong", {}, "WANDA") : null, el("code", {}, id),
      el("span", { class: "muted small" }, pick(n, "multiaddr", "addr") || "")));
  }
  if (!list.length) list.push(el("li", { class: "muted" }, "No peers connected."));
  $("peer-list").replaceChildren(...list);
}

async function refresh() {
  const [status, stats, peers] = await Promise.allSettled([
    get("/api/ipfs/status"),
    get("/api/ipfs/stats"),
    get("/api/ipfs/peers"),
  ]);
  info.status = status.status === "fulfilled" ? status.value : null;
  info.stats = stats.status === "fulfilled" ? stats.value : null;
  info.peers = peers.status === "fulfilled" ? peers.value : null;
  const failed = [status, stats, peers].find((r) => r.status === "rejected");
  info.error = failed ? failed.reason : null;
  render();
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    await refresh();
    schedule(document.visibilityState === "hidden" ? 60000 : 10000);
  }, ms);
}

/** Wires the IPFS panel. */
export function init() {
  $("connect-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy(ev.submitter, async () => {
      const multiaddr = $("connect-addr").value.trim();
      const d = await post("/api/ipfs/peers/connect", { multiaddr });
      notify("Connected", d.peer_id || multiaddr, "info");
      await refresh();
    });
  });
  live.on("/ws/ipfs", "status", (d) => { info.live = d; render(); });
  for (const ev of ["peer_connected", "peer_disconnected"]) live.on("/ws/ipfs", ev, () => schedule(200));
  live.on("/ws/ipfs", "ipfs_upload_error", (d) => {
    notify(titleFor("IPFS_PUBLISH"), `${d.filename}: ${d.error} (retry in ${d.retry_in_s} s)`);
  });
  live.on("/ws/ipfs", "sync_progress", (d) => {
    info.live = { ...(info.live || {}), root_cid: d.root_cid || info.live?.root_cid };
    render();
  });
  live.onReconnect(() => schedule(0));
  live.onDisconnect(() => schedule(0));
  schedule(0);
}
