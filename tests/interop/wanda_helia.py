"""WANDA <-> Helia 7 over libp2p: Bitswap both ways (bytes compared) and gossipsub both ways on
/wanda-telescope. Run inside a loopback-only network namespace (run_wanda_helia.sh does that).
Ends with "N passed, M failed"; exit 1 on failure."""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "helia"))
from helia_client import HeliaPeer  # noqa: E402
from interop_common import Tally, WandaDaemon, seed_bytes, wait_for_subscriber  # noqa: E402

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
DHT_PROTOCOL = "/ipfs/kad/1.0.0"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wanda", required=True)
    ap.add_argument("--sizes", default="0,1,10485760")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="wanda-helia-"))
    t = Tally()
    files = {f"w-{n}.bin": seed_bytes(f"wanda-to-helia-{n}", n) for n in sizes}
    d = WandaDaemon(args.wanda, tmp / "wanda", files)
    try:
        # both on WANDA's default DHT protocol, both DHT servers: each can find the other's
        # provider records
        with HeliaPeer(stderr_path=tmp / "helia.log", dht_protocol=DHT_PROTOCOL) as h:
            r = h.connect(d.addr)
            t.check("helia connects to wanda", r.get("ok", True) is not False)
            for n in sizes:
                name = f"w-{n}.bin"
                t0 = time.time()
                try:
                    got = h.cat(d.cids[name], tmp / f"h-got-{n}", timeout_ms=60_000)
                    ok = got["sha256"] == hashlib.sha256(files[name]).hexdigest()
                except Exception as e:  # noqa: BLE001 - report, keep going
                    ok, got = False, str(e)
                t.check(f"WANDA->Helia {n} B ({time.time() - t0:.2f} s)", ok, str(got)[:300])
            helia_addr = next(a for a in h.addrs if a.startswith("/ip4/127."))
            r = d.run("swarm", "connect", helia_addr)
            t.check("wanda connects to helia", r.returncode == 0, r.stderr.decode())
            for n in sizes:
                data = seed_bytes(f"helia-to-wanda-{n}", n)
                f = tmp / f"h-{n}.bin"
                f.write_bytes(data)
                cid = h.add(f, kubo=True)
                t0 = time.time()
                r = d.run("cat", "--timeout", "30s", cid)
                t.check(f"Helia->WANDA {n} B ({time.time() - t0:.2f} s)",
                        r.returncode == 0 and r.stdout == data, r.stderr.decode()[-300:])
            # gossipsub: Helia -> WANDA (Helia publishes until the `pubsub sub` client prints: the
            # daemon's app is on the topic before that client is attached)
            sub = d.subscribe(TOPIC)
            try:
                out = wait_for_subscriber(sub, lambda: h.publish(TOPIC, b"from helia", timeout_ms=5_000), deadline=20)
                t.check("gossipsub Helia->WANDA", out.strip() == "from helia", out or "no message")
            except Exception as e:  # noqa: BLE001
                sub.kill()
                t.check("gossipsub Helia->WANDA", False, str(e))
            # the announcement topic: Helia's announcement naming Helia passes WANDA's validator
            # (author = signer across implementations; forged ones: tests/hostile_peers.rs)
            sub = d.subscribe(APP_TOPIC)
            try:
                genuine = announcement(h.peer_id)
                out = wait_for_subscriber(sub, lambda: h.publish(APP_TOPIC, genuine, timeout_ms=5_000),
                                          deadline=20)
                t.check("announcement Helia->WANDA (signed by its node)",
                        f'"node":"{h.peer_id}"' in out.replace(" ", ""), out or "no message")
            except Exception as e:  # noqa: BLE001
                sub.kill()
                t.check("announcement Helia->WANDA (signed by its node)", False, str(e))
            # gossipsub: WANDA -> Helia
            h.subscribe(TOPIC)
            if d.wait_topic_peer(TOPIC, h.peer_id):
                d.run("pubsub", "pub", TOPIC, "from wanda").check_returncode()
                try:
                    msg = h.wait_message(TOPIC, timeout=20)
                    t.check("gossipsub WANDA->Helia", msg["data"] == b"from wanda" and msg.get("from") == d.peer_id,
                            str(msg))
                except Exception as e:  # noqa: BLE001
                    t.check("gossipsub WANDA->Helia", False, str(e))
            else:
                t.check("gossipsub WANDA->Helia", False, "wanda never saw helia on the topic")
            dht_checks(t, d, h, tmp)
    finally:
        d.stop()
    return t.finish(keep_on_failure=tmp)


def dht_checks(t: Tally, d: WandaDaemon, h: HeliaPeer, tmp: Path) -> None:
    """Kademlia across implementations: a provider record WANDA puts is found by Helia's
    kad-dht, and one Helia puts is found by WANDA (`routing provide` / `routing findprovs`)."""
    # WANDA provides a CID only it has; Helia looks for providers
    f = tmp / "dht-wanda.bin"
    f.write_bytes(seed_bytes("dht-wanda", 4096))
    cid = d.run("add", "-Q", str(f)).stdout.decode().strip()
    r = d.run("routing", "provide", cid)
    t.check("DHT: wanda routing provide", r.returncode == 0, r.stderr.decode()[-300:])
    found: list = []
    deadline = time.time() + 20
    while time.time() < deadline and not any(p.get("peerId") == d.peer_id for p in found):
        try:
            found = h.find_providers(cid, timeout_ms=5_000, max=5)
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            found = [{"error": str(e)}]
        time.sleep(0.2)
    t.check("DHT: Helia finds WANDA as provider", any(p.get("peerId") == d.peer_id for p in found),
            str(found)[:300])
    # Helia provides a CID only it has; WANDA looks for providers
    data = seed_bytes("dht-helia", 4096)
    hcid = h.add_bytes(data)
    try:
        h.provide(hcid)
        provided = True
    except Exception as e:  # noqa: BLE001
        provided = False
        t.check("DHT: Helia provide", False, str(e))
    if provided:
        out = ""
        deadline = time.time() + 20
        while time.time() < deadline and h.peer_id not in out:
            out = d.run("routing", "findprovs", "-n", "1", hcid, timeout=30).stdout.decode()
            time.sleep(0.2)
        t.check("DHT: WANDA finds Helia as provider", h.peer_id in out, out[:300])


if __name__ == "__main__":
    sys.exit(main())
