#!/usr/bin/env python3
"""Driver of benches/gateway_vs_nginx.sh: our gateway and nginx serve the same bytes, side by side.

Run it inside a network namespace with only `lo` (the shell script does). It
1. starts `gateway_serve` twice (a 100 MiB file and a 5 MiB "image", deterministic bytes, default
   import options) and reads their CIDs,
2. copies the same bytes (fetched from our gateway, checked by size) into nginx's root and starts
   nginx (sendfile on, 2 workers, access log off),
3. measures, interleaving the two servers:
   - one client fetching the 100 MiB file (curl, best and median of --runs),
   - `wrk -t2 -c64 -d15s --latency` on the 5 MiB image (requests/s, transfer/s, p50/p99),
   - optionally the same wrk on the 100 MiB file (--big-wrk),
4. prints a Markdown table and ratios, and writes JSON (--json).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

GW_BIG_PORT = 18089
GW_IMG_PORT = 18090
NGINX_PORT = 18080


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def wait_port(port, deadline=120):
    end = time.time() + deadline
    while time.time() < end:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def start_gateway(exe, port, mib):
    p = subprocess.Popen([exe, str(port), str(mib)], stdout=subprocess.PIPE, text=True)
    cid = p.stdout.readline().strip()
    if not cid:
        raise SystemExit(f"gateway_serve {port} {mib} printed no CID")
    wait_port(port)
    return p, cid


NGINX_CONF = """
worker_processes 2;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    types {{ image/jpeg jpg; application/octet-stream bin; }}
    client_body_temp_path {work}/tmp;
    proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp;
    scgi_temp_path {work}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {work}/www;
    }}
}}
"""


def start_nginx(work):
    os.makedirs(f"{work}/tmp", exist_ok=True)
    conf = f"{work}/nginx.conf"
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(work=work, port=NGINX_PORT))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    p = subprocess.Popen([nginx, "-c", conf, "-p", work], stderr=subprocess.DEVNULL)
    wait_port(NGINX_PORT)
    return p


def curl_rate(url):
    """Bytes/s of one GET (whole body discarded)."""
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    code, size, secs = int(out[0]), int(out[1]), float(out[2])
    if code != 200:
        raise SystemExit(f"{url}: HTTP {code}")
    return size, size / secs


UNITS = {"": 1, "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "k": 1e3, "M": 1e6}


def to_ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    n, u = float(m.group(1)), m.group(2)
    return n * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 60e3}[u]


def wrk(url, args):
    cmd = ["wrk"] + args + ["--latency", url]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = {"cmd": " ".join(cmd)}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1))
    m = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    res["bytes_per_s"] = float(m.group(1)) * UNITS[m.group(2)]
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        res[f"p{pct}_ms"] = to_ms(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    res["socket_errors"] = m.group(1).strip() if m else ""
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", required=True, help="gateway_serve binary")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--wrk-args", default="-t2 -c64 -d15s")
    ap.add_argument("--big-wrk", action="store_true", help="also wrk the 100 MiB file")
    ap.add_argument("--json")
    a = ap.parse_args()
    work = os.path.abspath(a.workdir)
    os.makedirs(f"{work}/www", exist_ok=True)
    # nginx's workers run as an unprivileged user: they must reach the files
    os.chmod(work, 0o755)
    os.chmod(f"{work}/www", 0o755)
    procs = []
    try:
        gw_big, big_cid = start_gateway(a.serve, GW_BIG_PORT, 100)
        procs.append(gw_big)
        gw_img, img_cid = start_gateway(a.serve, GW_IMG_PORT, 5)
        procs.append(gw_img)
        urls = {
            "gateway": {
                "big": f"http://127.0.0.1:{GW_BIG_PORT}/ipfs/{big_cid}",
                "img": f"http://127.0.0.1:{GW_IMG_PORT}/ipfs/{img_cid}",
            },
            "nginx": {
                "big": f"http://127.0.0.1:{NGINX_PORT}/big.bin",
                "img": f"http://127.0.0.1:{NGINX_PORT}/image.jpg",
            },
        }
        for name, key, size in (("big.bin", "big", 100 << 20), ("image.jpg", "img", 5 << 20)):
            subprocess.run(
                ["curl", "-sSf", "-o", f"{work}/www/{name}", urls["gateway"][key]], check=True
            )
            got = os.path.getsize(f"{work}/www/{name}")
            if got != size:
                raise SystemExit(f"{name}: {got} bytes from the gateway, expected {size}")
        procs.append(start_nginx(work))
        for key in ("big", "img"):
            subprocess.run(["cmp", f"{work}/www/{'big.bin' if key == 'big' else 'image.jpg'}", "-"],
                           input=urllib.request.urlopen(urls["nginx"][key]).read(), check=True)

        result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  "loadavg_start": os.getloadavg(), "big_cid": big_cid, "img_cid": img_cid}
        # warm both (page cache, redb cache)
        for s in ("gateway", "nginx"):
            curl_rate(urls[s]["big"])
        rates = {"gateway": [], "nginx": []}
        for _ in range(a.runs):
            for s in ("gateway", "nginx"):
                size, r = curl_rate(urls[s]["big"])
                assert size == 100 << 20
                rates[s].append(r)
        result["big_single"] = {
            s: {"median_Bps": statistics.median(v), "best_Bps": max(v), "runs": v}
            for s, v in rates.items()
        }
        log("100 MiB, one client:", {s: f"{statistics.median(v)/1e9:.2f} GB/s" for s, v in rates.items()})

        wrk_args = a.wrk_args.split()
        result["img_wrk"] = {}
        for s in ("gateway", "nginx"):
            subprocess.run(["wrk", "-t1", "-c8", "-d2s", urls[s]["img"]], check=True,
                           capture_output=True)  # warm-up
            result["img_wrk"][s] = wrk(urls[s]["img"], wrk_args)
            log("5 MiB image, wrk:", s, result["img_wrk"][s])
        if a.big_wrk:
            result["big_wrk"] = {}
            for s in ("gateway", "nginx"):
                result["big_wrk"][s] = wrk(urls[s]["big"], wrk_args)
                log("100 MiB, wrk:", s, result["big_wrk"][s])
        result["loadavg_end"] = os.getloadavg()

        g, n = result["big_single"]["gateway"], result["big_single"]["nginx"]
        gi, ni = result["img_wrk"]["gateway"], result["img_wrk"]["nginx"]
        lines = [
            f"Run {result['date']}, load average {result['loadavg_start'][0]:.1f} at start, "
            f"{result['loadavg_end'][0]:.1f} at end.",
            "",
            "| case | WANDA gateway | nginx (sendfile) | WANDA / nginx |",
            "|---|---|---|---|",
            f"| 100 MiB, one client (curl, median of {a.runs}) | {g['median_Bps']/1e9:.2f} GB/s "
            f"(best {g['best_Bps']/1e9:.2f}) | {n['median_Bps']/1e9:.2f} GB/s (best {n['best_Bps']/1e9:.2f}) "
            f"| {g['median_Bps']/n['median_Bps']*100:.0f} % |",
            f"| 5 MiB image, `{gi['cmd'].split(' --latency')[0]}`: requests/s | {gi['rps']:.0f} | {ni['rps']:.0f} "
            f"| {gi['rps']/ni['rps']*100:.0f} % |",
            f"| … transfer | {gi['bytes_per_s']/1e9:.2f} GB/s | {ni['bytes_per_s']/1e9:.2f} GB/s "
            f"| {gi['bytes_per_s']/ni['bytes_per_s']*100:.0f} % |",
            f"| … p50 latency | {gi['p50_ms']:.1f} ms | {ni['p50_ms']:.1f} ms | {gi['p50_ms']/ni['p50_ms']:.2f} × |",
            f"| … p99 latency | {gi['p99_ms']:.1f} ms | {ni['p99_ms']:.1f} ms | {gi['p99_ms']/ni['p99_ms']:.2f} × |",
        ]
        if a.big_wrk:
            gb, nb = result["big_wrk"]["gateway"], result["big_wrk"]["nginx"]
            lines += [
                f"| 100 MiB, same wrk: transfer | {gb['bytes_per_s']/1e9:.2f} GB/s | "
                f"{nb['bytes_per_s']/1e9:.2f} GB/s | {gb['bytes_per_s']/nb['bytes_per_s']*100:.0f} % |",
                f"| … p99 latency | {gb['p99_ms']:.0f} ms | {nb['p99_ms']:.0f} ms | {gb['p99_ms']/nb['p99_ms']:.2f} × |",
            ]
        for s, r in result["img_wrk"].items():
            if r["non_2xx"] or r["socket_errors"]:
                lines.append(f"\n{s}: non-2xx {r['non_2xx']}, socket errors {r['socket_errors']}")
        result["markdown"] = "\n".join(lines)
        print(result["markdown"])
        if a.json:
            with open(a.json, "w") as f:
                json.dump(result, f, indent=2)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
