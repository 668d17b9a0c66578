// `wanda daemon` processes for the browser tests: a repo initialised with the `local` profile
// (loopback only), simulated 640×480 camera and mount, listeners on 127.0.0.1 (port 0 unless
// a fixed gateway port is asked for, so a restarted daemon comes back where the page expects
// it). Only ever run inside run.sh's network namespace.
import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const WANDA = process.env.WANDA;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ENV = { ...process.env };
delete ENV.WANDA_REPO; // --repo decides

/** Runs `wanda --repo REPO ARGS…`; resolves to stdout, rejects with stderr on failure. */
export function wanda(repo, ...args) {
  return new Promise((resolve, reject) => {
    execFile(WANDA, ["--repo", repo, ...args], { env: ENV }, (err, stdout, stderr) => {
      if (err) reject(new Error(`wanda ${args.join(" ")}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** A loopback TCP port nobody listens on now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export class Daemon {
  /**
   * A new repo and its daemon. `config`: extra `wanda config KEY VALUE` pairs; `gatewayPort`:
   * a fixed port for the main listener (UI, API, gateway), else the OS picks one.
   */
  static async create({ config = {}, gatewayPort = 0, netns = null, host = null, init = [] } = {}) {
    const dir = mkdtempSync(join(tmpdir(), "wanda-ui-peer-"));
    const repo = join(dir, "repo");
    await wanda(repo, "init");
    for (const args of init) await wanda(repo, ...args);
    const keys = {
      "addresses.api": "/ip4/127.0.0.1/tcp/0",
      "addresses.swarm": '["/ip4/127.0.0.1/tcp/0"]',
      "addresses.gateway": `/ip4/127.0.0.1/tcp/${gatewayPort}`,
      "camera.driver": "sim",
      "camera.sim_width": "640",
      "camera.sim_height": "480",
      ...config,
    };
    for (const [k, v] of Object.entries(keys)) await wanda(repo, "config", k, v);
    const d = new Daemon(dir, repo, netns, host);
    await d.start();
    return d;
  }

  /**
   * `netns`: a network namespace path (`/proc/PID/ns/net`) to run the daemon in (another host
   * of the test's simulated LAN); `host`: the address the tests reach its main listener at
   * (default: the one in `$REPO/gateway`).
   */
  constructor(dir, repo, netns = null, host = null) {
    this.dir = dir;
    this.repo = repo;
    this.netns = netns;
    this.host = host;
    this.child = null;
    this.out = "";
    this.base = null;
  }

  /** Starts (or restarts) the daemon on its repo and waits until the API answers. */
  async start() {
    for (const f of ["api", "gateway"]) rmSync(join(this.repo, f), { force: true });
    const [cmd, args] = this.netns
      ? ["nsenter", [`--net=${this.netns}`, WANDA, "--repo", this.repo, "daemon"]]
      : [WANDA, ["--repo", this.repo, "daemon"]];
    this.child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: ENV });
    this.child.stdout.on("data", (b) => { this.out += b; });
    this.child.stderr.on("data", (b) => { this.out += b; });
    const end = Date.now() + 60_000;
    while (!existsSync(join(this.repo, "gateway"))) {
      if (this.child.exitCode !== null) throw new Error(`wanda daemon exited ${this.child.exitCode}:\n${this.out}`);
      if (Date.now() > end) throw new Error(`wanda daemon did not start:\n${this.out}`);
      await sleep(50);
    }
    const ma = readFileSync(join(this.repo, "gateway"), "utf8").trim().split("/");
    this.base = `http://${this.host || ma[2]}:${ma[4]}`;
    while (Date.now() < end) {
      try {
        if ((await fetch(`${this.base}/api/ipfs/status`)).ok) return this;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`wanda daemon's API did not answer on ${this.base}:\n${this.out}`);
  }

  /** Stops the daemon: SIGTERM, then SIGKILL if it is not gone after `graceMs`. */
  async stop(graceMs = 15_000) {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await Promise.race([exited, sleep(graceMs)]);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill("SIGKILL");
      await exited;
    }
  }

  /** The daemon's envelope `data` for GET `path` (throws on a failure). */
  async get(path) {
    const r = await fetch(this.base + path);
    const j = await r.json();
    if (!r.ok || j.success === false) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j.data;
  }

  /** POST `path` with a JSON body; resolves to `{status, body}`. */
  async post(path, body = {}) {
    const r = await fetch(this.base + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  }

  /** Stops the daemon and removes its repo. */
  async destroy() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
