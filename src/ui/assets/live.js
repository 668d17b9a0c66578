// Real-time updates: one Socket.IO connection (the vendored socket.io-client, global `io`)
// multiplexing /ws/camera, /ws/mount, /ws/session and /ws/ipfs. The client reconnects by
// itself (with backoff); every namespace sends `status` again on reconnect, and `onReconnect`
// callbacks let panels reload what they may have missed.

import { $ } from "./dom.js";

const NAMESPACES = ["/ws/camera", "/ws/mount", "/ws/session", "/ws/ipfs"];
const sockets = {};
const reconnectHooks = [];
let everConnected = false;

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
    if (everConnected) for (const f of reconnectHooks) f();
    everConnected = true;
  });
  cam.on("disconnect", () => setState("offline", "reconnecting…"));
  cam.on("connect_error", () => setState("offline", "reconnecting…"));
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

/** Whether the live connection is up (used by the browser test). */
export function connected() {
  return NAMESPACES.every((ns) => sockets[ns]?.connected);
}
