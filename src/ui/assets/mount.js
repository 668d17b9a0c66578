// Mount tracking: start/stop, direction and speed (× sidereal).

import { get, post, titleFor } from "./api.js";
import { $, busy, notify } from "./dom.js";
import * as live from "./live.js";

function showStatus(s) {
  if (!s) return;
  const state = s.tracking ? `Tracking ${s.direction ? "clockwise" : "counter-clockwise"} at ${Number(s.speed).toFixed(2)}× sidereal` : "Not tracking";
  $("mount-status").textContent = `${state} — ${s.status || ""}${s.error ? ` (error: ${s.error})` : ""}`;
  $("mount-status").dataset.tracking = String(Boolean(s.tracking));
  $("tracking-start").disabled = Boolean(s.tracking);
  $("tracking-stop").disabled = !s.tracking;
  const speed = $("mount-speed");
  if (document.activeElement !== speed && typeof s.speed === "number" && s.speed > 0) speed.value = String(s.speed);
  if (typeof s.direction === "boolean") $("mount-direction").value = String(s.direction);
}

async function refresh() {
  try {
    showStatus(await get("/api/mount/status"));
  } catch (e) {
    $("mount-status").textContent = `${e.title}: ${e.message}`;
  }
}

/** Wires the mount panel. */
export function init() {
  $("tracking-start").addEventListener("click", () =>
    busy($("tracking-start"), async () => {
      await post("/api/mount/tracking", {
        action: "start",
        speed: Number($("mount-speed").value),
        direction: $("mount-direction").value === "true",
      });
      await refresh();
    }));
  $("tracking-stop").addEventListener("click", () =>
    busy($("tracking-stop"), async () => {
      await post("/api/mount/tracking", { action: "stop" });
      await refresh();
    }));
  for (const ev of ["status", "tracking_start", "tracking_stop"]) live.on("/ws/mount", ev, showStatus);
  live.on("/ws/mount", "mount_error", (d) => notify(titleFor("MOUNT_ERROR"), d.error || "the mount failed"));
  // a session with tracking starts and stops the mount without a /ws/mount event
  for (const ev of ["session_start", "session_complete", "session_stop", "session_error"]) live.on("/ws/session", ev, refresh);
  live.onReconnect(refresh);
  refresh();
}
