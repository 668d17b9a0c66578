// Only the owner controls the telescope, in a real browser (docs/API.md, "Access"). The
// telescope runs on "the Pi": a network namespace of its own joined to the browser's by a veth
// pair (10.88.0.1 ↔ 10.88.0.2), its main listener on every address as with `--profile lan`.
// The browser is another host, so only the owner's login makes it the owner.
// - A page of another site (served from 10.88.0.2) tries fetch POST/DELETE and a form post
//   against the API: refused, nothing changes.
// - The owner's UI: a visitor sees no controls; after logging in, the controls work; a phone
//   paired with the QR code is logged in too.
// - A page served by the gateway (`/ipfs/<cid>`, HTML a peer could have announced) tries to
//   use the owner's login: it cannot read the cookie, and its requests are refused.
// Run by run.sh inside a network namespace that has only `lo`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdirSync, readlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import jsQR from "jsqr";
import { Daemon, wanda } from "./daemon.mjs";

const CHROMIUM = process.env.CHROMIUM;
const ART = resolve(process.env.ARTIFACTS || join(import.meta.dirname, "../../target/browser-artifacts"));
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const T = 60_000;
const PI = "10.88.0.1";
const LAN = "10.88.0.2";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let holder, pi, token, evil, evilBase, browser;
const consoleErrors = [];
const expected = [];

// what Chromium logs for the refusals these tests provoke on purpose: failed loads (403, 401,
// CORS-blocked) and the CORS explanations
const PROVOKED = /Failed to load resource|CORS policy|Access-Control/;

function watch(p, label) {
  p.on("console", (m) => {
    if (m.type() !== "error" || PROVOKED.test(m.text())) return;
    consoleErrors.push(`${label}: ${m.text()} @ ${m.location()?.url || ""}`);
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

/** "The Pi": a network namespace held by a sleeping process, linked to ours. */
async function makeLan() {
  holder = spawn("unshare", ["--net", "sleep", "3600"], { stdio: "ignore" });
  const ours = readlinkSync("/proc/self/ns/net");
  const ns = `/proc/${holder.pid}/ns/net`;
  for (let i = 0; ; i++) {
    try {
      if (readlinkSync(ns) !== ours) break;
    } catch {
      // not there yet
    }
    if (i > 500) throw new Error("no namespace for the Pi");
    await sleep(10);
  }
  const sh = (cmd) => execFileSync("sh", ["-c", cmd]);
  sh("ip link add wanda-lan type veth peer name wanda-pi");
  sh(`ip link set wanda-pi netns ${holder.pid}`);
  sh(`ip addr add ${LAN}/24 dev wanda-lan && ip link set wanda-lan up`);
  sh(`nsenter --net=${ns} sh -c 'ip link set lo up && ip addr add ${PI}/24 dev wanda-pi && ip link set wanda-pi up'`);
  return ns;
}

/** The daemon's state a stranger must not change. */
async function piState() {
  const get = async (p) => (await (await fetch(pi.base + p)).json()).data;
  return {
    tracking: (await get("/api/mount/status")).tracking,
    session: (await get("/api/session/status")).status,
    exposure: (await get("/api/camera/status")).exposure_seconds,
    pins: (await get("/api/ipfs/pins?limit=1000")).pins,
    captures: (await get("/api/captures")).files,
  };
}

/** Owner calls from the test itself (with the token). */
async function asOwner(method, path, body, type = "application/json") {
  const r = await fetch(pi.base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": type },
    body,
  });
  const j = await r.json();
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(j)}`);
  return j.data;
}

before(async () => {
  assert.ok(process.env.WANDA && CHROMIUM, "set WANDA and CHROMIUM (run.sh does)");
  mkdirSync(ART, { recursive: true });
  const ns = await makeLan();
  pi = await Daemon.create({
    netns: ns,
    host: PI,
    init: [["auth", "owner"]],
    config: { "addresses.gateway": "/ip4/0.0.0.0/tcp/0" },
  });
  const out = await wanda(pi.repo, "auth", "owner");
  token = out.match(/token: (\S+)/)[1];
  // another site: a page on the browser's own LAN address
  evil = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(EVIL_PAGE(pi.base));
  });
  await new Promise((r) => evil.listen(0, LAN, r));
  evilBase = `http://${LAN}:${evil.address().port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
});

after(async () => {
  await browser?.close();
  evil?.close();
  await pi?.destroy();
  holder?.kill();
});

/** The attacker's page: every way a page can send a request to another site. */
const EVIL_PAGE = (target) => `<!doctype html><title>cute kittens</title>
<form id="f" method="POST" action="${target}/api/mount/tracking" enctype="text/plain">
<input name='{"action":"start","x":"' value='"}'></form>
<script>
window.results = {};
async function attempt(name, url, init) {
  try {
    const r = await fetch(url, init);
    window.results[name] = "status " + r.status;
  } catch (e) {
    window.results[name] = "blocked: " + e.message;
  }
}
window.attack = async () => {
  const t = ${JSON.stringify(target)};
  await attempt("json", t + "/api/mount/tracking", { method: "POST", credentials: "include", headers: { "Content-Type": "application/json" }, body: '{"action":"start"}' });
  await attempt("simple", t + "/api/mount/tracking", { method: "POST", mode: "no-cors", credentials: "include", headers: { "Content-Type": "text/plain" }, body: '{"action":"start"}' });
  await attempt("session", t + "/api/session/start", { method: "POST", mode: "no-cors", credentials: "include", body: '{"name":"evil","total_images":1}' });
  await attempt("delete", t + "/api/ipfs/pins/" + window.pinned, { method: "DELETE", credentials: "include" });
  await attempt("delete-nocors", t + "/api/ipfs/pins/" + window.pinned, { method: "DELETE", mode: "no-cors", credentials: "include" });
  return window.results;
};
</script>`;

describe("only the owner controls the telescope, in Chromium", { concurrency: 1 }, () => {
  let pinned, context;

  it("refuses another site's page: fetch POST/DELETE and a form post change nothing", async () => {
    pinned = (await asOwner("POST", "/api/ipfs/content?name=keep", "keep me", "application/octet-stream")).cid;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // the owner is logged in in this browser: the attacks ride on that login if they can
    const ui = watch(await context.newPage(), "ui");
    await ui.goto(pi.base + "/", { waitUntil: "domcontentloaded" });
    await ui.waitForSelector('html[data-access="visitor"]');
    await ui.click("#login-btn");
    await ui.fill("#login-secret", token);
    await ui.click("#login-submit");
    await ui.waitForSelector('html[data-access="owner"]');
    const before = await piState();
    const page = watch(await context.newPage(), "evil");
    await page.goto(evilBase + "/", { waitUntil: "load" });
    await page.evaluate((cid) => { window.pinned = cid; }, pinned);
    // the CORS fetches fail in the browser (the preflight allows no write); Chromium logs them
    const results = await page.evaluate(() => window.attack());
    assert.match(results.json, /^blocked/, JSON.stringify(results));
    assert.match(results.delete, /^blocked/, JSON.stringify(results));
    // the form post navigates to the answer: the server's refusal in words
    await page.evaluate(() => document.getElementById("f").submit());
    await page.waitForURL(/api\/mount\/tracking/);
    const body = await page.textContent("body");
    assert.match(body, /CROSS_SITE_REFUSED/, body);
    await sleep(500);
    assert.deepEqual(await piState(), before, "another site's page changed the telescope");
    // and the server refused each of them itself (not only the browser): the same requests
    // with the attacker's Origin, sent directly, are 403
    for (const [method, path] of [["POST", "/api/mount/tracking"], ["POST", "/api/session/start"], ["DELETE", `/api/ipfs/pins/${pinned}`]]) {
      const r = await fetch(pi.base + path, { method, headers: { Origin: evilBase, "Content-Type": "text/plain", Authorization: `Bearer ${token}` }, body: method === "POST" ? '{"action":"start","name":"x","total_images":1}' : undefined });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal((await r.json()).code, "CROSS_SITE_REFUSED");
    }
    await page.close();
    await ui.close();
  });

  it("shows a visitor no controls; the owner logs in and the controls work; a phone pairs by QR", async () => {
    const visitorCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const v = watch(await visitorCtx.newPage(), "visitor");
    await v.goto(pi.base + "/", { waitUntil: "domcontentloaded" });
    await v.waitForSelector('html[data-access="visitor"]');
    assert.equal(await v.isVisible("#camera-form"), false);
    assert.equal(await v.isVisible("#tracking-start"), false);
    assert.equal(await v.isVisible("#session-form"), false);
    assert.equal(await v.isVisible("#login-btn"), true);
    assert.match(await v.textContent("#access-note"), /visitor/);
    await v.screenshot({ path: join(ART, "12-visitor.png"), fullPage: true });
    // a wrong token is said in words
    await v.click("#login-btn");
    await v.fill("#login-secret", "not-the-token");
    await v.click("#login-submit");
    await v.waitForSelector(".alert >> text=not one of this telescope's credentials");
    await v.fill("#login-secret", token);
    await v.click("#login-submit");
    await v.waitForSelector('html[data-access="owner"]');
    assert.equal(await v.isVisible("#tracking-start"), true);
    assert.equal(await v.isVisible("#logout-btn"), true);
    // the controls work
    await v.fill("#mount-speed", "2");
    await v.click("#tracking-start");
    for (let i = 0; i < 100 && !(await piState()).tracking; i++) await sleep(100);
    assert.equal((await piState()).tracking, true);
    await v.click("#tracking-stop");
    for (let i = 0; i < 100 && (await piState()).tracking; i++) await sleep(100);
    assert.equal((await piState()).tracking, false);
    // the login cookie is HttpOnly: the page's scripts cannot read it
    assert.equal(await v.evaluate(() => document.cookie.includes("wanda_login")), false);
    const cookies = await visitorCtx.cookies();
    const c = cookies.find((x) => x.name === "wanda_login");
    assert.ok(c && c.httpOnly && c.sameSite === "Strict", JSON.stringify(cookies));
    // pair a phone: the QR code is a link that logs it in once
    await v.click("#pair-btn");
    await v.waitForSelector("#pair-dialog[open]");
    const link = await v.textContent("#pair-url");
    const png = await v.locator("#pair-qr").screenshot();
    const decoded = await v.evaluate(async (b64) => {
      const img = new Image();
      img.src = "data:image/png;base64," + b64;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width; c.height = img.height;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      return { w: c.width, h: c.height, data: Array.from(g.getImageData(0, 0, c.width, c.height).data) };
    }, png.toString("base64"));
    const qr = jsQR(Uint8ClampedArray.from(decoded.data), decoded.w, decoded.h);
    assert.ok(qr, "the pairing QR code does not decode");
    assert.equal(qr.data, link);
    assert.match(link, /#pair=/);
    await v.click("#pair-close");
    const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const phone = watch(await phoneCtx.newPage(), "phone");
    await phone.goto(link.replace(/^http:\/\/[^/]+/, pi.base), { waitUntil: "domcontentloaded" });
    await phone.waitForSelector('html[data-access="owner"]');
    assert.equal(new URL(phone.url()).hash, "", "the code stays in the address bar");
    await phone.screenshot({ path: join(ART, "13-phone-paired.png"), fullPage: true });
    // the code worked once
    const again = await fetch(pi.base + "/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ pair_code: link.split("#pair=")[1] }) });
    assert.equal(again.status, 401);
    // logging out makes this browser a visitor again
    await v.click("#logout-btn");
    await v.waitForSelector('html[data-access="visitor"]');
    await phoneCtx.close();
    await visitorCtx.close();
  });

  it("keeps HTML served by the gateway away from the owner's login", async () => {
    const html = `<!doctype html><title>a peer's capture page</title><pre id="out">running</pre>
<form id="f" method="POST" action="/api/mount/tracking" enctype="text/plain"><input name='{"action":"start","x":"' value='"}'></form>
<script>
(async () => {
  const out = {};
  try { out.cookie = document.cookie; } catch (e) { out.cookie = "denied: " + e.name; }
  try { localStorage.setItem("x", "1"); out.storage = "allowed"; } catch (e) { out.storage = "denied: " + e.name; }
  for (const [name, init] of [
    ["json", { method: "POST", credentials: "include", headers: { "Content-Type": "application/json" }, body: '{"action":"start"}' }],
    ["simple", { method: "POST", mode: "no-cors", credentials: "include", body: '{"action":"start"}' }],
  ]) {
    try { const r = await fetch("/api/mount/tracking", init); out[name] = "status " + r.status; }
    catch (e) { out[name] = "blocked: " + e.message; }
  }
  try { const r = await fetch("/api/auth/status", { credentials: "include" }); out.status = "read " + r.status + " " + (await r.text()); }
  catch (e) { out.status = "blocked: " + e.message; }
  document.getElementById("out").textContent = JSON.stringify(out);
})();
</script>`;
    const cid = (await asOwner("POST", "/api/ipfs/content?name=page.html", html, "application/octet-stream")).cid;
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const ui = watch(await ctx.newPage(), "owner");
    await ui.goto(pi.base + "/", { waitUntil: "domcontentloaded" });
    await ui.click("#login-btn");
    await ui.fill("#login-secret", token);
    await ui.click("#login-submit");
    await ui.waitForSelector('html[data-access="owner"]');
    const before = await piState();
    const g = watch(await ctx.newPage(), "gateway-page");
    const resp = await g.goto(`${pi.base}/ipfs/${cid}?filename=page.html`, { waitUntil: "load" });
    assert.match(resp.headers()["content-security-policy"] || "", /^sandbox/);
    await g.waitForFunction(() => document.getElementById("out").textContent !== "running");
    const out = JSON.parse(await g.textContent("#out"));
    assert.ok(!String(out.cookie).includes("wanda_login"), JSON.stringify(out));
    assert.match(out.storage, /^denied/, JSON.stringify(out));
    assert.match(out.json, /^blocked/, JSON.stringify(out));
    // the status read, if the browser lets it through at all, says "visitor"
    assert.ok(/^blocked/.test(out.status) || /"owner":false/.test(out.status), JSON.stringify(out));
    // its form post reaches the server as Origin: null and is refused
    await g.evaluate(() => document.getElementById("f").submit());
    await g.waitForURL(/api\/mount\/tracking/);
    assert.match(await g.textContent("body"), /CROSS_SITE_REFUSED/);
    await sleep(500);
    assert.deepEqual(await piState(), before, "a gateway page changed the telescope");
    // the owner's own page still works
    assert.equal((await ui.evaluate(async () => (await (await fetch("/api/auth/status")).json()).data.owner)), true);
    await ctx.close();
    assert.deepEqual(unexpectedErrors(), []);
  });
});
