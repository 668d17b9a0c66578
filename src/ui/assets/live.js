// Real-time updates: one Socket.IO connection (the vendored socket.io-client, global `io`)
// multiplexing /ws/camera, /ws/mount, /ws/session and /ws/ipfs. The client reconnects by
// itself (with backoff); every namespace sends `status` again on reconnect, and `onReconnect`
// callbacks let panels reload what they may have missed.

import { $, notify } from "./dom.js";

const NAMESPACES = ["/ws/camera", "/ws/mount", "/ws/session", "/ws/ipfs"];
const sockets = {};
const reconnectHooks = [];
const disconnectHooks = [];
let everConnected = false;
let lostAt = null; // Date the connection dropped, while it is down
let attempt = 0; // reconnection attempts since then

/** The banner that says in words that the telescope is not answering. */
function showOffline() {
  const b = $("offline");
  const since = lostAt ? ` since ${lostAt.toLocaleTimeString()}` : "";
  b.textContent = everConnected
    ? `Connection to the telescope lost${since}: it is not answering (stopped, restarting or out of reach). Reconnecting by itself${attempt ? ` (attempt ${attempt})` : ""}…`
    : `Cannot reach the telescope's live updates. Retrying by itself${attempt ? ` (attempt ${attempt})` : ""}…`;
  b.hidden = false;
}

function lost() {
  const first = lostAt === null;
  if (first) {
    lostAt = new Date();
    attempt = 0;
  }
  setState("offline", "reconnecting…");
  showOffline();
  if (first && everConnected) for (const f of disconnectHooks) f();
}

function setState(state, text) {
  const b = $("link-state");
  b.dataset.state = state;
  b.textContent = text;
}

/** Opens the namespaces (once). */
export function start() {
  if (typeof window.io !== "function") {
    setState("offline", "no live updates");
    return;
  }
  for (const ns of NAMESPACES) {
    const s = window.io(ns, {
      path: "/socket.io/",
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    sockets[ns] = s;
  }
  const cam = sockets["/ws/camera"];
  cam.on("connect", () => {
    setState("online", "live");
    $("offline").hidden = true;
    if (everConnected && lostAt) {
      const away = Math.round((Date.now() - lostAt.getTime()) / 1000);
      notify("Reconnected", `the telescope answers again after ${away} s; every panel reloaded`, "info");
    }
    lostAt = null;
    attempt = 0;
    if (everConnected) for (const f of reconnectHooks) f();
    everConnected = true;
  });
  cam.on("disconnect", lost);
  cam.on("connect_error", lost);
  cam.io.on("reconnect_attempt", (n) => {
    attempt = n;
    if (lostAt) showOffline();
  });
}

/** Calls `fn(data)` for `event` on namespace `ns`. */
export function on(ns, event, fn) {
  const s = sockets[ns];
  if (s) s.on(event, fn);
}

/** Calls `fn()` after each reconnection (not the first connection). */
export function onReconnect(fn) {
  reconnectHooks.push(fn);
}

/** Calls `fn()` once when an established connection drops (not for each retry). */
export function onDisconnect(fn) {
  disconnectHooks.push(fn);
}

/** Whether the live connection is up (used by the browser test). */
export function connected() {
  return NAMESPACES.every((ns) => sockets[ns]?.connected);
}
