// Socket.IO contract test: a real `wanda daemon` (simulated hardware) and socket.io-client 4
// (what the WANDA Next.js UI uses, websocket transport only). Checks the `status` event on
// connect of every namespace, then the events of a session, a single capture, mount tracking
// and IPFS publishing, with their payload fields. Run by run.sh inside a network namespace.
import { io } from "socket.io-client";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const wanda = process.argv[process.argv.indexOf("--wanda") + 1];
const repo = join(mkdtempSync(join(tmpdir(), "wanda-sio-")), "repo");
const w = (...args) => execFileSync(wanda, ["--repo", repo, ...args], { encoding: "utf8" });
w("init");
for (const [k, v] of [
  ["addresses.api", "/ip4/127.0.0.1/tcp/0"],
  ["addresses.gateway", "/ip4/127.0.0.1/tcp/0"],
  ["addresses.swarm", '["/ip4/127.0.0.1/tcp/0"]'],
  ["camera.driver", "sim"],
  ["camera.sim_width", "640"],
  ["camera.sim_height", "480"],
]) w("config", k, v);
const daemon = spawn(wanda, ["--repo", repo, "daemon"], { stdio: ["ignore", "ignore", "inherit"] });
let failed = false;
const fail = (msg) => { console.error("FAIL:", msg); failed = true; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let i = 0; !existsSync(join(repo, "api")); i++) {
  if (i > 400) { fail("daemon did not start"); process.exit(1); }
  await sleep(50);
}
const [, , ip, , port] = readFileSync(join(repo, "gateway"), "utf8").trim().split("/");
const base = `http://${ip}:${port}`;
const post = async (path, body) => {
  const r = await fetch(base + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok || !j.success) fail(`${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
};

const events = [];
const sockets = {};
const connected = [];
for (const ns of ["/ws/camera", "/ws/mount", "/ws/session", "/ws/ipfs"]) {
  const s = io(base + ns, { transports: ["websocket"], reconnection: false, timeout: 5000 });
  sockets[ns] = s;
  s.onAny((name, data) => events.push({ ns, name, data }));
  connected.push(new Promise((resolve, reject) => {
    s.on("connect", resolve);
    s.on("connect_error", (e) => reject(new Error(`${ns}: ${e.message}`)));
  }));
}
await Promise.all(connected);
const waitFor = async (what, pred, ms = 30000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const e = events.find(pred);
    if (e) return e;
    await sleep(20);
  }
  fail(`timed out waiting for ${what}`);
  return null;
};
const has = (obj, keys, what) => { for (const k of keys) if (!(obj && k in obj)) fail(`${what} lacks ${k}: ${JSON.stringify(obj)}`); };

// status on connect, per namespace
const cam = await waitFor("camera status", (e) => e.ns === "/ws/camera" && e.name === "status");
has(cam?.data, ["exposure_seconds", "iso", "night_vision_mode", "night_vision_intensity", "save_raw", "capture_status"], "camera status");
const mnt = await waitFor("mount status", (e) => e.ns === "/ws/mount" && e.name === "status");
has(mnt?.data, ["status", "tracking", "direction", "speed"], "mount status");
const ses = await waitFor("session status", (e) => e.ns === "/ws/session" && e.name === "status");
has(ses?.data, ["active", "name", "captured_images", "total_images", "remaining_time"], "session status");
await waitFor("ipfs status", (e) => e.ns === "/ws/ipfs" && e.name === "status");

// settings broadcast a camera status
await post("/api/camera/settings", { exposure_seconds: 0.01 });
await waitFor("status after settings", (e) => e.ns === "/ws/camera" && e.name === "status" && e.data.exposure_seconds === 0.01);

// a session: start, progress per image, complete; each image published
await post("/api/session/start", { name: "sio", total_images: 3, enable_tracking: false });
await waitFor("session_start", (e) => e.name === "session_start" && e.data.active === true);
for (const n of [1, 2, 3]) {
  const p = await waitFor(`session_progress ${n}`, (e) => e.name === "session_progress" && e.data.captured_images === n);
  has(p?.data, ["name", "total_images", "images_captured", "progress", "elapsed_time"], "session_progress");
}
const done = await waitFor("session_complete", (e) => e.name === "session_complete");
if (done && (done.data.active !== false || done.data.status !== "completed")) fail(`session_complete payload ${JSON.stringify(done.data)}`);
for (const n of [1, 2, 3]) {
  const f = `image_000${n}.jpg`;
  const e = await waitFor(`ipfs_upload_complete ${f}`, (e) => e.ns === "/ws/ipfs" && e.name === "ipfs_upload_complete" && e.data.filename === f);
  if (e && !/^Qm|^bafy/.test(e.data.cid)) fail(`bad cid in ${JSON.stringify(e.data)}`);
}
const status = await (await fetch(base + "/api/session/status")).json();
if (status.data.active !== false || status.data.captured_images !== 3) fail(`status after complete: ${JSON.stringify(status.data)}`);

// single capture
await post("/api/camera/capture");
await waitFor("capture_start", (e) => e.name === "capture_start" && e.data.capture_status === "Capturing");
await waitFor("capture_complete", (e) => e.name === "capture_complete" && /capture_0001\.jpg/.test(e.data.capture_status));
// capture_progress (WANDA's capture panel draws it): a share of the exposure while capturing,
// then 100, all before capture_complete
{
  const camEvents = events.filter((e) => e.ns === "/ws/camera");
  const doneAt = camEvents.findIndex((e) => e.name === "capture_complete");
  const progress = camEvents.slice(0, doneAt).filter((e) => e.name === "capture_progress").map((e) => e.data.progress);
  if (!progress.some((p) => Number.isInteger(p) && p >= 0 && p < 100) || progress[progress.length - 1] !== 100) {
    fail(`capture_progress before capture_complete: ${JSON.stringify(progress)}`);
  }
}

// mount
await post("/api/mount/tracking", { action: "start", speed: 1.5, direction: "cw" });
const ts = await waitFor("tracking_start", (e) => e.name === "tracking_start");
if (ts && (ts.data.tracking !== true || ts.data.speed !== 1.5)) fail(`tracking_start payload ${JSON.stringify(ts.data)}`);
await post("/api/mount/tracking", { action: "stop" });
await waitFor("tracking_stop", (e) => e.name === "tracking_stop" && e.data.tracking === false);

for (const s of Object.values(sockets)) s.close();
daemon.kill("SIGTERM");
const names = [...new Set(events.map((e) => `${e.ns} ${e.name}`))].sort();
console.log(`${events.length} events received:\n  ${names.join("\n  ")}`);
console.log(failed ? "socket.io contract: FAILED" : "socket.io contract: ok");
await new Promise((r) => daemon.on("exit", r));
process.exit(failed ? 1 : 0);
