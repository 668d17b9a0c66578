// The web UI when things go wrong, in Chromium against real daemons (daemon.mjs): a telescope
// whose disk is "full" (`captures.min_free_space` above what any disk has, `storage.max_storage`
// under what the repo holds) says so in words, and a page whose telescope stops and starts again
// on the same port says it is offline, then recovers by itself (no reload) and shows new events.
// Run by run.sh inside a network namespace that has only `lo`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { Daemon, freePort } from "./daemon.mjs";

const CHROMIUM = process.env.CHROMIUM;
const ART = resolve(process.env.ARTIFACTS || join(import.meta.dirname, "../../target/browser-artifacts"));
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const T = 60_000;
// what Chromium logs while the telescope is down: refused requests, a dropped MJPEG stream,
// the WebSocket retries
const OUTAGE = /ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_CONNECTION_CLOSED|WebSocket connection to .* failed/;

let full, restarting, browser, context;
const consoleErrors = [];
const expected = [];
let outage = false;

function watch(p, label) {
  p.on("console", (m) => {
    if (m.type() !== "error") return;
    const text = `${label}: ${m.text()} @ ${m.location()?.url || ""}`;
    if (outage && OUTAGE.test(text)) return;
    consoleErrors.push(text);
  });
  p.on("pageerror", (e) => consoleErrors.push(`${label} pageerror: ${e.message}`));
  p.setDefaultTimeout(T);
  return p;
}

function unexpectedErrors() {
  return consoleErrors.filter((e) => {
    const i = expected.findIndex((re) => re.test(e));
    if (i < 0) return true;
    expected.splice(i, 1);
    return false;
  });
}

async function shot(p, name) {
  await p.screenshot({ path: join(ART, `${name}.png`), fullPage: true });
}

async function dismissAlerts(p) {
  await p.evaluate(() => document.querySelectorAll("#alerts .alert button").forEach((b) => b.click()));
  await p.waitForFunction(() => document.getElementById("alerts").children.length === 0);
}

before(async () => {
  assert.ok(process.env.WANDA && CHROMIUM, "set WANDA and CHROMIUM (run.sh does)");
  mkdirSync(ART, { recursive: true });
  const port = await freePort();
  [full, restarting] = await Promise.all([
    Daemon.create({ config: { "captures.min_free_space": "1000TB", "storage.max_storage": "1KB" } }),
    Daemon.create({ gatewayPort: port }),
  ]);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
});

after(async () => {
  await browser?.close();
  await Promise.all([full?.destroy(), restarting?.destroy()]);
});

describe("WANDA web UI when things go wrong", { concurrency: 1 }, () => {
  it("says in words that storage is full", async () => {
    const page = watch(await context.newPage(), "full");
    await page.goto(full.base + "/", { waitUntil: "domcontentloaded" });
    await page.waitForSelector('#link-state[data-state="online"]');
    // the IPFS panel: the repo is over storage.max_storage
    await page.waitForSelector('#ipfs-info dd[data-key="Repo"] >> text=storage full');
    await page.waitForSelector(".alert >> text=the IPFS repo has reached its maximum");
    await dismissAlerts(page);
    // a capture is refused with 507 STORAGE_FULL; the answer and the events say why
    expected.push(/status of 507/);
    await page.click("#capture-btn");
    await page.waitForSelector(".alert >> text=Storage full");
    assert.match(await page.textContent("#alerts"), /storage full: saving \d+ bytes would leave less than the \d+ bytes kept free/);
    assert.doesNotMatch(await page.textContent("#alerts"), /Capture failed/);
    await page.waitForSelector("#capture-status >> text=/Capture failed: .*storage full/");
    await shot(page, "09-storage-full");
    await dismissAlerts(page);
    // a session from the form ends in error with the same reason
    await page.fill("#session-name", "full-disk");
    await page.fill("#session-count", "2");
    await page.click("#session-start");
    await page.waitForSelector(".alert >> text=Session failed");
    assert.match(await page.textContent("#alerts"), /storage full/);
    await page.waitForSelector('#session-progress[data-status="error"]');
    assert.match(await page.textContent("#session-text"), /full-disk: 0\/2 images · error/);
    assert.equal(await page.$$eval("#gallery li", (l) => l.length), 0, "nothing saved");
    await page.close();
  });

  it("says the telescope is offline when it stops, and recovers by itself when it is back", async () => {
    const page = watch(await context.newPage(), "restart");
    await page.goto(restarting.base + "/", { waitUntil: "domcontentloaded" });
    await page.waitForSelector('#link-state[data-state="online"]');
    await page.waitForSelector('#ipfs-state[data-state="online"]');
    await page.waitForFunction(() => document.getElementById("preview").naturalWidth === 640);
    await page.evaluate(() => { window.__sameDocument = true; });
    const peerId = (await restarting.get("/api/ipfs/status")).peer_id;

    outage = true;
    await restarting.stop();
    await page.waitForSelector('#link-state[data-state="offline"] >> text=reconnecting…');
    await page.waitForSelector("#offline:not([hidden]) >> text=/Connection to the telescope lost since .*Reconnecting by itself/");
    // the IPFS node lives in the telescope: its badge and panel say it is unreachable
    await page.waitForSelector('#ipfs-state[data-state="offline"] >> text=IPFS offline');
    assert.match(await page.textContent('#ipfs-info dd[data-key="Error"]'), /Telescope unreachable: cannot reach the telescope/);
    await page.waitForSelector("#offline >> text=/attempt \\d+/");
    await shot(page, "10-offline");

    // back on the same port (same repo, same peer ID): no reload, the page reconnects
    const feed = page.waitForRequest((r) => /\/video_feed\?reconnect=\d+$/.test(r.url()), { timeout: T });
    await restarting.start();
    await page.waitForSelector('#link-state[data-state="online"] >> text=live', { timeout: 30_000 });
    await page.waitForSelector("#offline", { state: "hidden" });
    await page.waitForSelector(".alert.info >> text=Reconnected");
    await page.waitForSelector('#ipfs-state[data-state="online"]');
    await page.waitForSelector(`#ipfs-info dd[data-key="Peer ID"] >> text=${peerId}`);
    await feed;
    await page.waitForFunction(() => document.getElementById("preview").naturalWidth === 640);
    outage = false;
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
    assert.equal(await page.evaluate(() => window.wanda.live.connected()), true);

    // new events arrive: a capture taken by another client shows in the gallery (which only
    // reloads on /ws/camera and /ws/ipfs events) and gets its CID
    assert.equal(await page.$$eval("#gallery li", (l) => l.length), 0);
    const r = await restarting.post("/api/camera/capture");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const path = r.body.data.path;
    await page.waitForSelector(`#gallery li[data-path="${path}"]`);
    await page.waitForSelector(`#gallery li[data-path="${path}"]:is([data-sync="published"], [data-sync="announced"])`);
    await shot(page, "11-reconnected");
    await page.close();
  });

  it("logged no unexpected console errors", () => {
    assert.deepEqual(unexpectedErrors(), []);
    assert.deepEqual(expected, [], "errors the test provoked did not show up");
  });
});
