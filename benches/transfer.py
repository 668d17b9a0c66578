"""100 MiB Bitswap transfers side by side, in one run, interleaved: WANDA→WANDA, Kubo→WANDA,
WANDA→Kubo and Kubo→Helia; plus the idle RSS of a fresh `wanda daemon`.

Run inside a loopback-only network namespace (benches/transfer.sh does that):
    python3 benches/transfer.py --wanda target/release/wanda [--mib 100] [--rounds 2]
Prints a Markdown table (median wall time, MB/s, CPU time of the receiving process where it is a
separate process) and checks every received byte. Reports numbers; asserts no speed targets.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "interop"))
sys.path.insert(0, str(ROOT / "tests" / "interop" / "helia"))
from helia_client import HeliaPeer  # noqa: E402
from interop_common import WandaDaemon, wanda as wanda_cli  # noqa: E402
from kubo import Kubo, hard_exit, in_loopback_only_netns  # noqa: E402

DIRECTIONS = ["WANDA→WANDA", "Kubo→WANDA", "WANDA→Kubo", "Kubo→Helia"]


class Daemon(WandaDaemon):
    """WandaDaemon with every listener (RPC, gateway, swarm) on an ephemeral loopback port."""

    def __init__(self, bin_: str, repo: Path, files: dict[str, bytes]):
        wanda_cli(bin_, repo, "init").check_returncode()
        wanda_cli(bin_, repo, "config", "addresses.gateway", "/ip4/127.0.0.1/tcp/0").check_returncode()
        real_init = wanda_cli

        def no_reinit(b: str, r: Path, *a: str, **kw):
            return subprocess.CompletedProcess(a, 0) if a == ("init",) else real_init(b, r, *a, **kw)

        import interop_common
        interop_common.wanda = no_reinit
        try:
            super().__init__(bin_, repo, files)
        finally:
            interop_common.wanda = real_init


def data_for(direction: str, rnd: int, n: int) -> bytes:
    """Distinct deterministic bytes per transfer (no block is ever already at the receiver)."""
    return hashlib.shake_256(f"transfer-{direction}-{rnd}".encode()).digest(n)


def cpu_seconds(pid: int) -> float:
    """user + sys of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def idle_rss(wanda: str, tmp: Path, settle: float) -> float:
    d = WandaDaemon(wanda, tmp / "idle" / "repo", {})
    try:
        time.sleep(settle)
        return rss_mb(d.proc.pid)
    finally:
        d.stop()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wanda", required=True)
    ap.add_argument("--mib", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--idle-seconds", type=float, default=20.0)
    args = ap.parse_args()
    if not in_loopback_only_netns():
        sys.exit("run me inside a loopback-only network namespace (benches/transfer.sh)")
    n = args.mib << 20
    tmp = Path(tempfile.mkdtemp(prefix="wanda-transfer-"))
    (tmp / "idle").mkdir()
    print(f"idle RSS: measuring a fresh daemon after {args.idle_seconds:.0f} s…", flush=True)
    rss = idle_rss(args.wanda, tmp, args.idle_seconds)
    print(f"idle RSS: {rss:.1f} MB", flush=True)

    rounds = range(args.rounds)
    datas = {(d, r): data_for(d, r, n) for d in DIRECTIONS for r in rounds}
    (tmp / "w1").mkdir()
    (tmp / "w2").mkdir()
    src_files = {f"{d}-{r}.bin": datas[(d, r)] for d in ("WANDA→WANDA", "WANDA→Kubo") for r in rounds}
    print("adding sources…", flush=True)
    w1 = Daemon(args.wanda, tmp / "w1" / "repo", src_files)
    w2 = Daemon(args.wanda, tmp / "w2" / "repo", {})
    helia = None
    times: dict[str, list[float]] = {d: [] for d in DIRECTIONS}
    cpus: dict[str, list[float]] = {d: [] for d in DIRECTIONS}
    failures: list[str] = []
    try:
        kubo = Kubo()
        krepo = str(tmp / "kubo")
        kubo.create_repo(krepo)
        if not kubo.run_node(krepo):
            raise RuntimeError("Kubo RunNode failed")
        k_id = kubo.node_id(krepo)
        k_addr = next(a for a in kubo.multiaddrs(krepo) if a.startswith("/ip4/127."))
        if "/p2p/" not in k_addr:
            k_addr = f"{k_addr}/p2p/{k_id}"
        kcids = {}
        for d in ("Kubo→WANDA", "Kubo→Helia"):
            for r in rounds:
                f = tmp / f"k-{d}-{r}.bin"
                f.write_bytes(datas[(d, r)])
                kcids[(d, r)] = kubo.add_file(krepo, f)
                f.unlink()
        helia = HeliaPeer(name="helia-receiver")
        helia.connect(k_addr)
        w2.run("swarm", "connect", w1.addr).check_returncode()
        w2.run("swarm", "connect", k_addr).check_returncode()
        if not kubo.connect(krepo, w1.addr):
            raise RuntimeError("Kubo cannot connect to WANDA")
        time.sleep(1)

        for r in rounds:
            for d in DIRECTIONS:
                data = datas[(d, r)]
                cpu0 = None
                t0 = time.perf_counter()
                if d in ("WANDA→WANDA", "Kubo→WANDA"):
                    cid = w1.cids[f"{d}-{r}.bin"] if d == "WANDA→WANDA" else kcids[(d, r)]
                    cpu0 = cpu_seconds(w2.proc.pid)
                    # to a file, as Kubo and Helia write theirs: a pipe into this process
                    # would make the bench itself compete for the CPU
                    dest = tmp / f"wanda-got-{r}.bin"
                    with open(dest, "wb") as out:
                        res = subprocess.run([args.wanda, "--repo", str(w2.repo), "cat", "--timeout", "60s", cid],
                                             stdout=out, stderr=subprocess.PIPE, timeout=600)
                    dt = time.perf_counter() - t0
                    cpu = cpu_seconds(w2.proc.pid) - cpu0
                    ok = res.returncode == 0 and dest.read_bytes() == data
                    dest.unlink(missing_ok=True)
                    detail = res.stderr.decode()[-300:]
                elif d == "WANDA→Kubo":
                    dest = tmp / f"kubo-got-{r}.bin"
                    try:
                        ok = kubo.download(krepo, w1.cids[f"{d}-{r}.bin"], dest, timeout=600)
                    except TimeoutError:
                        ok = False
                    dt = time.perf_counter() - t0
                    cpu = float("nan")
                    ok = ok and dest.read_bytes() == data
                    dest.unlink(missing_ok=True)
                    detail = ""
                else:
                    dest = tmp / f"helia-got-{r}.bin"
                    cpu0 = cpu_seconds(helia.proc.pid)
                    helia.cat(kcids[(d, r)], dest, timeout_ms=600_000)
                    dt = time.perf_counter() - t0
                    cpu = cpu_seconds(helia.proc.pid) - cpu0
                    ok = dest.read_bytes() == data
                    dest.unlink(missing_ok=True)
                    detail = ""
                status = "ok" if ok else "BYTES DIFFER / FAILED"
                print(f"round {r + 1} {d}: {dt:.2f} s, {n / dt / 1e6:.0f} MB/s, receiver CPU {cpu:.2f} s {status} {detail}",
                      flush=True)
                if ok:
                    times[d].append(dt)
                    cpus[d].append(cpu)
                else:
                    failures.append(f"{d} round {r + 1}")
    finally:
        w1.stop()
        w2.stop()
        if helia is not None:
            helia.close()

    print()
    print(f"| transfer ({args.mib} MiB) | median wall | MB/s | receiver CPU (user+sys) | runs |")
    print("|---|---|---|---|---|")
    med = {}
    for d in DIRECTIONS:
        if not times[d]:
            print(f"| {d} | failed | | | 0 |")
            continue
        med[d] = statistics.median(times[d])
        c = statistics.median(cpus[d])
        cs = "n/a (in the Kubo process)" if c != c else f"{c:.2f} s"
        runs = ", ".join(f"{t:.2f}" for t in times[d])
        print(f"| {d} | {med[d]:.2f} s | {n / med[d] / 1e6:.0f} | {cs} | {runs} |")
    if "Kubo→Helia" in med:
        base = med["Kubo→Helia"]
        print()
        for d in ("WANDA→WANDA", "Kubo→WANDA", "WANDA→Kubo"):
            if d in med:
                print(f"{d} vs Kubo→Helia: {base / med[d]:.2f}× as fast")
    print(f"\nidle daemon RSS (fresh repo, no peers, {args.idle_seconds:.0f} s): {rss:.1f} MB")
    if failures:
        print("FAILED: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    hard_exit(code)
