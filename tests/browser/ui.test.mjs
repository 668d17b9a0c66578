// The built-in web UI in a real browser: `wanda demo` (simulated camera and mount, `local`
// profile) serves the page; playwright-core drives Debian's Chromium through it like an
// observer would. A second telescope (`wanda daemon`, daemon.mjs) joins it for the network
// gallery. Run by run.sh inside a network namespace that has only `lo`.
// Usage: node --test-concurrency=1 --test ui.test.mjs   with WANDA=path/to/wanda, CHROMIUM=path.
// Screenshots go to $ARTIFACTS (default target/browser-artifacts/). Any console error or page
// error the test did not expect fails it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import jsQR from "jsqr";
import { Daemon } from "./daemon.mjs";

const WANDA = process.env.WANDA;
const CHROMIUM = process.env.CHROMIUM;
const ART = resolve(process.env.ARTIFACTS || join(import.meta.dirname, "../../target/browser-artifacts"));
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SESSION = "ui-test";
const PEER_SESSION = "bench-b";
const PEER_LOCATION = "Bench B, La Plata";
const T = 60_000;

let demo, demoOut = "", repo, base, rpc, peerId, demoCids = [];
let browser, context, page;
let peer; // the second telescope (network gallery)
const consoleErrors = [];
const expected = []; // regexes of console errors a step provoked on purpose

function expectConsoleError(re) {
  expected.push(re);
}

function unexpectedErrors() {
  return consoleErrors.filter((e) => {
    const i = expected.findIndex((re) => re.test(e));
    if (i < 0) return true;
    expected.splice(i, 1);
    return false;
  });
}

async function shot(name, p = page) {
  await p.screenshot({ path: join(ART, `${name}.png`), fullPage: true });
}

/** Closes every alert, as an observer would before going on. */
async function dismissAlerts(p = page) {
  await p.evaluate(() => document.querySelectorAll("#alerts .alert button").forEach((b) => b.click()));
  await p.waitForFunction(() => document.getElementById("alerts").children.length === 0);
}

async function json(path, init) {
  const r = await fetch(base + path, init);
  return { status: r.status, body: await r.json() };
}

/** Kubo RPC `pin/ls` of one CID on the demo's RPC listener: "recursive", or null when unpinned. */
async function pinType(cid) {
  const r = await fetch(`${rpc}/api/v0/pin/ls?arg=${cid}&type=recursive`, { method: "POST" });
  if (r.status !== 200) return null;
  const j = await r.json();
  return j.Keys?.[cid]?.Type ?? null;
}

async function waitForDemo() {
  const end = Date.now() + 300_000;
  while (Date.now() < end) {
    const m = demoOut.match(/Serving the gateway and the telescope API on (http:\/\/127\.0\.0\.1:\d+)\//);
    if (m) return m[1];
    if (demo.exitCode !== null) throw new Error(`wanda demo exited ${demo.exitCode}:\n${demoOut}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`wanda demo did not start serving:\n${demoOut}`);
}

before(async () => {
  assert.ok(WANDA && CHROMIUM, "set WANDA and CHROMIUM (run.sh does)");
  mkdirSync(ART, { recursive: true }); // run.sh empties it first
  repo = join(mkdtempSync(join(tmpdir(), "wanda-ui-")), "repo");
  demo = spawn(WANDA, ["--repo", repo, "demo", "--images", "3", "--sim-size", "640x480", "--exposure", "0.05"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  demo.stdout.on("data", (b) => { demoOut += b; });
  demo.stderr.on("data", (b) => { demoOut += b; });
  // the second telescope starts meanwhile; it is connected to the demo only in its own step
  const peerStarting = Daemon.create({ config: { "telescope.location": PEER_LOCATION } });
  base = await waitForDemo();
  peer = await peerStarting;
  rpc = "http://" + demoOut.match(/RPC API server listening on \/ip4\/([\d.]+)\/tcp\/(\d+)/).slice(1).join(":");
  peerId = demoOut.match(/PeerID: (\S+)/)[1];
  demoCids = [...demoOut.matchAll(/^\[(\d+)\/3\] (\S+)\s+(\S+)\s+(\S+)$/gm)].map((m) => ({ name: m[2], cid: m[3], url: m[4] }));
  assert.equal(demoCids.length, 3, demoOut);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${m.text()} @ ${m.location()?.url || ""}`); });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.setDefaultTimeout(T);
});

after(async () => {
  await browser?.close();
  await peer?.destroy();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once("exit", r));
    demo.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (demo.exitCode === null) demo.kill("SIGKILL");
  }
  if (repo) rmSync(join(repo, ".."), { recursive: true, force: true });
});

describe("WANDA web UI in Chromium", { concurrency: 1 }, () => {
  it("loads from the binary and connects the live updates", async () => {
    const r = await page.goto(base + "/", { waitUntil: "domcontentloaded" });
    assert.equal(r.status(), 200);
    assert.match(r.headers()["content-type"], /^text\/html/);
    await page.waitForSelector("html[data-ready=true]");
    await page.waitForSelector('#link-state[data-state="online"]');
    // the link shows online when /ws/camera connects; the other namespaces follow a moment later
    await page.waitForFunction(() => window.wanda.live.connected());
    // the MJPEG preview shows frames of the simulated 640×480 sensor
    await page.waitForFunction(() => document.getElementById("preview").naturalWidth === 640);
    await page.waitForSelector("#capture-status:not(:empty)");
    await shot("01-loaded");
  });

  it("shows the demo session in the history and its CIDs in the gallery", async () => {
    await page.click('#session-history li[data-folder="demo"] button');
    for (const { cid } of demoCids) await page.waitForSelector(`#gallery li[data-cid="${cid}"]`);
    const states = await page.$$eval("#gallery li", (lis) => lis.map((li) => li.dataset.sync));
    assert.deepEqual(states.length, 3);
    for (const s of states) assert.ok(["published", "announced"].includes(s), s);
  });

  it("changes exposure and ISO", async () => {
    await page.fill("#exposure", "0.02");
    await page.fill("#iso", "200");
    await page.click('#camera-form button[type="submit"]');
    await page.waitForSelector(".alert.info >> text=exposure 0.02 s, ISO 200");
    const { body } = await json("/api/camera/status");
    assert.equal(body.data.exposure_seconds, 0.02);
    assert.equal(Math.round(body.data.iso), 200);
  });

  it("starts and stops mount tracking at a chosen speed", async () => {
    await page.fill("#mount-speed", "2");
    await page.selectOption("#mount-direction", "false");
    await page.click("#tracking-start");
    await page.waitForSelector('#mount-status[data-tracking="true"]');
    assert.match(await page.textContent("#mount-status"), /counter-clockwise at 2\.00× sidereal/);
    const { body } = await json("/api/mount/status");
    assert.equal(body.data.tracking, true);
    assert.equal(body.data.speed, 2);
    assert.equal(body.data.direction, false);
    await page.click("#tracking-stop");
    await page.waitForSelector('#mount-status[data-tracking="false"]');
  });

  it("runs a timed session started from the form; the gallery fills with CIDs", async () => {
    await page.fill("#session-name", SESSION);
    await page.selectOption("#session-mode", "timed");
    await page.fill("#session-count", "3");
    await page.fill("#session-hours", "0.005");
    await page.check("#session-tracking");
    await page.click("#session-start");
    await page.waitForSelector('#session-progress[data-status="running"]');
    await page.waitForSelector('#mount-status[data-tracking="true"]');
    // while the session runs, a manual capture is refused and said so in words
    expectConsoleError(/status of 409/);
    await page.click("#capture-btn");
    await page.waitForSelector(".alert >> text=Camera busy");
    assert.match(await page.textContent("#alerts"), /a session is capturing/);
    await shot("02-session-running");
    await dismissAlerts();
    await page.waitForSelector('#session-progress[data-status="completed"]', { timeout: 120_000 });
    assert.match(await page.textContent("#session-text"), /3\/3 images/);
    await page.waitForSelector('#mount-status[data-tracking="false"]');
    assert.equal(await page.inputValue("#gallery-folder"), SESSION);
    await page.waitForFunction(() => {
      const lis = [...document.querySelectorAll("#gallery li")];
      return lis.length === 3 && lis.every((li) => li.dataset.cid && ["published", "announced"].includes(li.dataset.sync));
    }, null, { timeout: 120_000 });
    await page.waitForSelector(`#session-history li[data-folder="${SESSION}"]`);
    await shot("03-gallery");
  });

  it("opens a capture through its /ipfs link: the bytes are the file on disk", async () => {
    const li = page.locator("#gallery li").first();
    const cid = await li.getAttribute("data-cid");
    const path = await li.getAttribute("data-path");
    const response = page.waitForResponse((r) => r.url() === `${base}/ipfs/${cid}`);
    await li.click();
    const r = await response;
    assert.equal(r.status(), 200);
    const onDisk = readFileSync(join(repo, "captures", path));
    assert.ok((await r.body()).equals(onDisk), `${base}/ipfs/${cid} differs from captures/${path}`);
    assert.equal(await page.getAttribute("#detail-full", "href"), `/ipfs/${cid}`);
    await page.waitForFunction(() => document.getElementById("detail-img").naturalWidth === 640);
    assert.equal(await page.textContent("#detail-cid"), cid);
    assert.equal(await page.getAttribute("#detail-gateway", "href"), `${base}/ipfs/${cid}`);

    // the QR code says the gateway URL
    const { w, h, data } = await page.evaluate(() => {
      const c = document.getElementById("detail-qr");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height);
      return { w: c.width, h: c.height, data: Array.from(d.data) };
    });
    const qr = jsQR(Uint8ClampedArray.from(data), w, h);
    assert.ok(qr, "no QR code found on the canvas");
    assert.equal(qr.data, `${base}/ipfs/${cid}`);

    // the copy button puts the CID on the clipboard
    await page.click("#detail-copy");
    await page.waitForSelector(".alert.info >> text=Copied");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), cid);
    await shot("04-detail");
    await dismissAlerts();
  });

  it("unpins and pins the capture (IPFS REST routes)", async () => {
    const cid = await page.textContent("#detail-cid");
    assert.equal(await pinType(cid), "recursive", "a published capture starts pinned");
    await page.waitForSelector('#detail[data-pinned="true"]');
    await page.click("#detail-unpin");
    await page.waitForSelector('#detail[data-pinned="false"]');
    await page.waitForSelector(".alert.info >> text=Unpinned");
    assert.equal(await pinType(cid), null, "unpinned through the UI");
    await dismissAlerts();
    await page.click("#detail-pin");
    await page.waitForSelector('#detail[data-pinned="true"]');
    assert.equal(await pinType(cid), "recursive", "pinned again through the UI");
    await dismissAlerts();
  });

  it("shows the IPFS node and says in words when a peer cannot be reached", async () => {
    await page.waitForSelector('#ipfs-state[data-state="online"]');
    await page.waitForSelector(`#ipfs-info dd[data-key="Peer ID"] >> text=${peerId}`);
    assert.match(await page.textContent('#ipfs-info dd[data-key="Addresses"]'), /\/ip4\/127\.0\.0\.1\/tcp\/\d+/);
    assert.match(await page.textContent('#ipfs-info dd[data-key="Repo"]'), /^\d+(\.\d)? [KMG]?i?B of 9\.3 GiB \(\d+\.\d %\)$/);
    assert.match(await page.textContent('#ipfs-info dd[data-key="Connected peers"]'), /^0$/);
    assert.match(await page.textContent('#ipfs-info dd[data-key="Bandwidth"]'), /^in \d+(\.\d)? [KMG]?i?B\/s · out \d+(\.\d)? [KMG]?i?B\/s/);
    expectConsoleError(/status of 5\d\d/);
    await page.fill("#connect-addr", `/ip4/127.0.0.1/tcp/9/p2p/${peerId}`);
    await page.click('#connect-form button[type="submit"]');
    await page.waitForSelector(".alert:not(.info)", { state: "attached" });
    assert.match(await page.textContent("#alerts"), /Peer unreachable|IPFS/);
    await shot("05-ipfs");
  });

  it("shows a second telescope's captures in the network gallery as they arrive", async () => {
    await dismissAlerts();
    await page.click("#tab-network");
    await page.waitForSelector("#network-pane:not([hidden])");
    await page.waitForSelector("#network-empty:not([hidden]) >> text=No captures from other telescopes yet");
    const peerId2 = (await peer.get("/api/ipfs/status")).peer_id;
    const demoAddr = (await json("/api/ipfs/status")).body.data.addresses[0];
    const c = await peer.post("/api/ipfs/peers/connect", { multiaddr: demoAddr });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    // the IPFS panel lists the new peer as a WANDA node (peer_connected event)
    await page.waitForSelector(`#peer-list li[data-peer="${peerId2}"]`);
    await new Promise((r) => setTimeout(r, 1500)); // a gossipsub heartbeat or two
    const s = await peer.post("/api/session/start", { name: PEER_SESSION, total_images: 2 });
    assert.equal(s.status, 200, JSON.stringify(s.body));
    // the peer's files and CIDs, from its own API and disk
    let files = [];
    const end = Date.now() + 90_000;
    while (Date.now() < end) {
      const caps = (await peer.get(`/api/captures?folder=${PEER_SESSION}`)).captures.filter((x) => x.name.endsWith(".jpg"));
      if (caps.length === 2 && caps.every((x) => x.ipfs?.cid)) {
        files = caps.map((x) => ({ cid: x.ipfs.cid, path: x.path, size: x.size }));
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(files.length, 2, "the second telescope published its 2 captures");
    // no click, no reload: content_received / content_pinned events fill the tab; the demo
    // replicates them (replication on by default), so they show as replicas held here
    for (const f of files) await page.waitForSelector(`#network-gallery li[data-cid="${f.cid}"][data-sync="replica"]`, { timeout: 90_000 });
    for (const f of files) {
      const li = page.locator(`#network-gallery li[data-cid="${f.cid}"]`);
      assert.equal(await li.getAttribute("data-node"), peerId2);
      assert.equal(await li.getAttribute("data-session"), PEER_SESSION);
      const text = await li.textContent();
      assert.ok(text.includes(PEER_LOCATION), text);
      assert.ok(text.includes(f.cid), text);
      assert.match(text, /replica pinned here/);
    }
    assert.match(await page.textContent("#tab-network"), /^Network \(\d+\)$/);
    await page.waitForFunction(() => document.querySelector('#network-gallery li[data-sync="replica"] img')?.naturalWidth === 640);
    // the telescopes met: location, peer ID, how many of its captures are replicated here
    await page.waitForSelector(`#network-peers li[data-peer="${peerId2}"] >> text=2 replicated here`, { timeout: 30_000 });
    assert.match(await page.textContent(`#network-peers li[data-peer="${peerId2}"]`), new RegExp(PEER_LOCATION));
    // the telescope filter lists it with its count
    assert.ok((await page.$$eval("#network-peer option", (os) => os.map((o) => o.value))).includes(peerId2));

    // open one: the full image through this telescope's /ipfs link, the same bytes as the
    // second telescope's file
    const f = files[0];
    await page.click(`#network-gallery li[data-cid="${f.cid}"]`);
    await page.waitForSelector(`#detail[data-source="network"][data-key="${f.cid}"]`);
    assert.equal(await page.getAttribute("#detail-full", "href"), `/ipfs/${f.cid}`);
    await page.waitForFunction(() => document.getElementById("detail-img").naturalWidth === 640);
    const r = await page.request.get(`${base}/ipfs/${f.cid}`);
    assert.equal(r.status(), 200);
    const onPeerDisk = readFileSync(join(peer.repo, "captures", f.path));
    assert.ok((await r.body()).equals(onPeerDisk), `${base}/ipfs/${f.cid} differs from the second telescope's ${f.path}`);
    assert.equal(await page.textContent("#detail-cid"), f.cid);
    assert.equal(await page.getAttribute("#detail-gateway", "href"), `${base}/ipfs/${f.cid}`);
    assert.equal(await page.textContent('#detail-extra dd[data-key="Telescope"]'), PEER_LOCATION);
    assert.equal(await page.textContent('#detail-extra dd[data-key="Peer ID"]'), peerId2);
    assert.equal(await page.textContent('#detail-extra dd[data-key="Session"]'), PEER_SESSION);
    // the demo's own pin counts as a replica besides the origin
    await page.waitForSelector("#detail-sync >> text=/replica pinned here · 1 replica$/");
    const { w, h, data } = await page.evaluate(() => {
      const c = document.getElementById("detail-qr");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height);
      return { w: c.width, h: c.height, data: Array.from(d.data) };
    });
    assert.equal(jsQR(Uint8ClampedArray.from(data), w, h)?.data, `${base}/ipfs/${f.cid}`);
    await shot("08-network");

    // unpin the replica: the tile says it is no longer held here (fetched on demand); pin again
    assert.equal(await pinType(f.cid), "recursive");
    await page.click("#detail-unpin");
    await page.waitForSelector('#detail[data-pinned="false"]');
    await page.waitForSelector(`#network-gallery li[data-cid="${f.cid}"][data-sync="remote"] >> text=not held here`);
    assert.equal(await pinType(f.cid), null, "unpinned through the UI");
    await page.click("#detail-pin");
    await page.waitForSelector('#detail[data-pinned="true"]');
    await page.waitForSelector(`#network-gallery li[data-cid="${f.cid}"][data-sync="replica"]`);
    assert.equal(await pinType(f.cid), "recursive", "pinned again through the UI");
    await dismissAlerts();
    await page.click("#detail-close");
    await page.click("#tab-local");
  });

  it("switches to the red night theme and remembers it", async () => {
    await page.click("#night-toggle");
    await page.waitForSelector('html[data-theme="night"]');
    const colors = () => page.evaluate(() => {
      const s = getComputedStyle(document.body);
      return { bg: s.backgroundColor, fg: s.color };
    });
    assert.deepEqual(await colors(), { bg: "rgb(0, 0, 0)", fg: "rgb(179, 0, 0)" });
    await page.reload({ waitUntil: "domcontentloaded" });
    await page.waitForSelector("html[data-ready=true]");
    assert.equal(await page.getAttribute("html", "data-theme"), "night");
    assert.equal(await page.getAttribute("#night-toggle", "aria-pressed"), "true");
    await page.waitForSelector('#link-state[data-state="online"]');
    await shot("06-night");
  });

  it("fits a phone screen", async () => {
    const phone = await context.newPage();
    phone.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`phone: ${m.text()}`); });
    phone.on("pageerror", (e) => consoleErrors.push(`phone pageerror: ${e.message}`));
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(base + "/", { waitUntil: "domcontentloaded" });
    await phone.waitForSelector('#link-state[data-state="online"]');
    await phone.click("#night-toggle"); // back to the day theme
    await phone.waitForSelector('html[data-theme="day"]');
    await phone.click('#session-history li[data-folder="demo"] button');
    await phone.waitForSelector("#gallery li");
    const { scroll, width } = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    assert.ok(scroll <= width, `page is ${scroll}px wide on a ${width}px screen`);
    await shot("07-phone", phone);
    await phone.close();
  });

  it("logged no unexpected console errors", () => {
    assert.deepEqual(unexpectedErrors(), []);
    assert.deepEqual(expected, [], "errors the test provoked did not show up");
  });
});
