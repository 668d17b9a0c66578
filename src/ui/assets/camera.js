// Live view (MJPEG from /video_feed), exposure/ISO settings and the capture button.

import { get, post, titleFor } from "./api.js";
import { $, busy, notify } from "./dom.js";
import * as live from "./live.js";

function showStatus(s) {
  if (!s) return;
  $("capture-status").textContent = s.capture_status || "";
  const exp = $("exposure"), iso = $("iso");
  if (document.activeElement !== exp && typeof s.exposure_seconds === "number") exp.value = String(s.exposure_seconds);
  if (document.activeElement !== iso && typeof s.iso === "number") iso.value = String(Math.round(s.iso));
  const size = s.width && s.height ? `${s.width}×${s.height}` : "";
  $("camera-info").textContent = [s.name, s.driver && `(${s.driver})`, size].filter(Boolean).join(" ");
  $("capture-btn").disabled = Boolean(s.recording);
}

/** Streams the preview while it is wanted and the page is visible. */
function syncPreview() {
  const img = $("preview");
  const want = $("preview-on").checked && document.visibilityState !== "hidden";
  $("preview-off").hidden = want;
  img.hidden = !want;
  if (want && !img.getAttribute("src")) img.src = "/video_feed";
  if (!want && img.getAttribute("src")) img.removeAttribute("src");
}

async function refresh() {
  try {
    showStatus(await get("/api/camera/status"));
  } catch (e) {
    $("capture-status").textContent = `${e.title}: ${e.message}`;
  }
}

/** Wires the camera panel. */
export function init() {
  $("preview-on").addEventListener("change", syncPreview);
  document.addEventListener("visibilitychange", syncPreview);
  syncPreview();

  $("camera-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const btn = ev.submitter || null;
    busy(btn, async () => {
      const body = { exposure_seconds: Number($("exposure").value), iso: Number($("iso").value) };
      const d = await post("/api/camera/settings", body);
      notify("Camera", `exposure ${d.exposure_seconds} s, ISO ${Math.round(d.iso)}`, "info");
    });
  });

  $("capture-btn").addEventListener("click", () =>
    busy($("capture-btn"), async () => {
      const d = await post("/api/camera/capture");
      notify("Captured", d.path || d.filename || "saved", "info");
    }));

  live.on("/ws/camera", "status", showStatus);
  live.on("/ws/camera", "capture_start", (d) => {
    $("capture-status").textContent = d.capture_status || "Capturing";
    $("capture-btn").disabled = true;
  });
  live.on("/ws/camera", "capture_complete", (d) => {
    $("capture-status").textContent = d.capture_status || "Ready";
    $("capture-btn").disabled = false;
  });
  live.on("/ws/camera", "capture_error", (d) => {
    $("capture-btn").disabled = false;
    $("capture-status").textContent = `Capture failed: ${d.error}`;
    const err = d.error || "the camera failed";
    const code = /storage full/i.test(err) ? "STORAGE_FULL" : /^camera busy/i.test(err) ? "CAMERA_BUSY" : "CAPTURE_ERROR";
    notify(titleFor(code), err);
  });
  live.onReconnect(() => {
    refresh();
    // the MJPEG stream ended with the old connection: ask for a new one
    const img = $("preview");
    if (img.getAttribute("src")) img.src = `/video_feed?reconnect=${Date.now()}`;
  });
  refresh();
}
