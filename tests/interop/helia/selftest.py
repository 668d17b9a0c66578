"""Helia-vs-Helia self test of peer.mjs + helia_client.py (run by selftest.sh,
inside a network namespace that has only `lo`).

Two Helia peers on 127.0.0.1: connect, Kubo-style CIDs (vs tests/vectors),
10 MiB bitswap transfer, gossipsub both ways, kad-dht provide/find_providers.
Ends with one line `N passed, M failed`; exit status 1 on any failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from helia_client import HeliaError, HeliaPeer  # noqa: E402

ROOT = HERE.parents[2]
MIB = 1 << 20
TOPIC = "/wanda-telescope"
KAD = "/ipfs/lan/kad/1.0.0"
EMPTY_V0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"


def det_bytes(seed: str, n: int) -> bytes:
    """bytes(seed, n) = SHA-256(utf8(seed) || u64_le(k)) for k = 0, 1, ... concatenated, truncated."""
    prefix = seed.encode()
    out = bytearray()
    k = 0
    while len(out) < n:
        out += hashlib.sha256(prefix + struct.pack("<Q", k)).digest()
        k += 1
    return bytes(out[:n])


class Results:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, cond: bool, detail: str = "") -> bool:
        if cond:
            self.passed += 1
            print(f"ok   {name}" + (f"  ({detail})" if detail else ""), flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f"  ({detail})" if detail else ""), flush=True)
        return cond

    def run(self, name: str, fn) -> None:
        """Run fn(); an exception counts as one failure of `name`."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(file=sys.stderr)


def wait_until(pred, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


def main() -> int:
    r = Results()
    tmp = Path(tempfile.mkdtemp(prefix="helia-selftest-"))
    node = os.environ.get("HELIA_NODE")
    peers: list[HeliaPeer] = []
    try:
        # start both at once (start time is mostly module loading)
        with ThreadPoolExecutor(2) as ex:
            futs = [ex.submit(HeliaPeer, node=node, dht_protocol=KAD, name=f"helia-{n}",
                              stderr_path=tmp / f"{n}.stderr.log") for n in "ab"]
            errs = []
            for f in futs:
                try:
                    peers.append(f.result())
                except Exception as e:  # noqa: BLE001
                    errs.append(e)
            if errs:
                raise errs[0]
        a, b = peers
        print(f"# node start: a {a.start_seconds:.2f} s, b {b.start_seconds:.2f} s", flush=True)
        r.check("peer ids are Ed25519 (12D3KooW...)", a.peer_id.startswith("12D3KooW") and b.peer_id.startswith("12D3KooW"))
        r.check("listens on 127.0.0.1 only",
                all(x.startswith("/ip4/127.0.0.1/tcp/") for x in a.addrs + b.addrs) and bool(a.addrs),
                " ".join(a.addrs))
        protos = a.id()["protocols"]
        r.check("advertises bitswap 1.2.0, lan kad, meshsub",
                all(p in protos for p in ("/ipfs/bitswap/1.2.0", KAD, "/meshsub/1.1.0")), ",".join(protos))

        # --- Kubo-default CIDs
        empty = tmp / "empty.bin"
        empty.write_bytes(b"")
        r.check("kubo:true CID of the 0-byte file", a.add(empty, kubo=True) == EMPTY_V0)
        r.check("kubo:true add_bytes of b'' gives the same CID", a.add_bytes(b"", kubo=True) == EMPTY_V0)
        vectors = {v["name"]: v for v in json.loads((ROOT / "tests/vectors/expected.json").read_text())["vectors"]}

        def check_vector(name: str) -> None:
            v = vectors[name]
            p = tmp / f"vec-{name}.bin"
            p.write_bytes(det_bytes(v["seed"], v["size"]))
            got = a.add(p, kubo=True)
            r.check(f"kubo:true CID == tests/vectors {name}", got == v["cid"], f"{got} vs {v['cid']}")
            p.unlink()
        for name in ("one-byte", "chunk-plus-1", "174-chunks-plus-1"):
            if name in vectors:
                r.run(f"vector {name}", lambda name=name: check_vector(name))
        v1 = a.add_bytes(b"hello", kubo=False)
        r.check("kubo:false = Helia defaults (CIDv1 raw leaf)", v1.startswith("bafkrei"), v1)

        # --- safety: non-loopback dials are refused (before any packet is sent)
        try:
            a.connect("/ip4/192.0.2.1/tcp/4001")
            r.check("refuses to dial a non-loopback address", False)
        except HeliaError as e:
            r.check("refuses to dial a non-loopback address", "127" in str(e), str(e))

        for ma, deny in (("/ip4/127.0.0.1/tcp/4001", False), ("/ip4/127.8.9.10/tcp/1", False),
                         ("/ip4/10.0.0.1/tcp/4001", True), ("/ip4/192.168.1.1/tcp/4001", True),
                         ("/ip4/8.8.8.8/tcp/4001", True), ("/ip6/::1/tcp/4001", True),
                         ("/dns4/localhost/tcp/4001", True)):
            g = a.request("gater_check", addr=ma)
            r.check(f"connection gater {'denies' if deny else 'allows'} {ma}",
                    g["denyDial"] is deny and g["peerStoreFilterAllows"] is (not deny))

        # --- connect
        res = b.connect(a.addrs[0])
        r.check("b connects to a", res["peerId"] == a.peer_id, res.get("remoteAddr", ""))
        r.check("a sees b", wait_until(lambda: any(p["peerId"] == b.peer_id for p in a.peers()), 5))

        # --- 10 MiB over bitswap, a -> b
        data = det_bytes("helia-selftest-10mib", 10 * MIB)
        want = hashlib.sha256(data).hexdigest()
        src = tmp / "10mib.bin"
        src.write_bytes(data)
        del data
        t = time.monotonic()
        cid = a.add(src, kubo=True)
        print(f"# add 10 MiB (kubo:true) on a: {time.monotonic() - t:.2f} s -> {cid}", flush=True)
        r.check("10 MiB kubo:true CID is CIDv0", cid.startswith("Qm"), cid)
        t = time.monotonic()
        out = b.cat(cid, tmp / "10mib.out", timeout_ms=120_000)
        dt = time.monotonic() - t
        print(f"# bitswap 10 MiB a->b: {dt:.2f} s (peer-side {out['ms']} ms)", flush=True)
        r.check("10 MiB cat on b: length", out["bytes"] == 10 * MIB, str(out["bytes"]))
        r.check("10 MiB cat on b: sha256", out["sha256"] == want, out["sha256"])
        r.check("10 MiB output file matches",
                hashlib.sha256((tmp / "10mib.out").read_bytes()).hexdigest() == want)
        (tmp / "10mib.out").unlink()

        # --- gossipsub both ways
        def pubsub() -> None:
            a.subscribe(TOPIC)
            b.subscribe(TOPIC)
            r.check("a sees b subscribed", wait_until(lambda: b.peer_id in a.topic_peers(TOPIC), 10))
            r.check("b sees a subscribed", wait_until(lambda: a.peer_id in b.topic_peers(TOPIC), 10))
            a.publish(TOPIC, b"hello from a")
            m = b.wait_message(TOPIC, timeout=10)
            r.check("gossipsub a -> b", m["data"] == b"hello from a" and m["from"] == a.peer_id, repr(m["data"]))
            b.publish(TOPIC, b"hello from b")
            m = a.wait_message(TOPIC, timeout=10)
            r.check("gossipsub b -> a", m["data"] == b"hello from b" and m["from"] == b.peer_id, repr(m["data"]))
            try:
                a.publish("/wanda-nobody", b"x", timeout_ms=300)
                r.check("publish to a topic with no peers fails after timeout", False)
            except HeliaError as e:
                r.check("publish to a topic with no peers fails after timeout", "no peer subscribed" in str(e))
        r.run("gossipsub", pubsub)

        # --- kad-dht provide / find_providers
        def kad() -> None:
            r.check("kad routing tables populated",
                    wait_until(lambda: a.routing_table()["size"] > 0 and b.routing_table()["size"] > 0, 10),
                    f"a={a.routing_table()['size']} b={b.routing_table()['size']}")
            pcid = a.add_bytes(b"provided by helia-a " + a.peer_id.encode(), kubo=True)
            t = time.monotonic()
            a.provide(pcid, timeout_ms=30_000)
            print(f"# kad provide: {time.monotonic() - t:.2f} s", flush=True)
            t = time.monotonic()
            provs = b.find_providers(pcid, timeout_ms=15_000, max=1)
            print(f"# kad find_providers: {time.monotonic() - t:.2f} s -> {provs}", flush=True)
            r.check("b finds a as provider via kad", any(p["peerId"] == a.peer_id for p in provs), json.dumps(provs))
            r.check("provider addrs are loopback only",
                    all(x.startswith("/ip4/127.") for p in provs for x in p["addrs"]))
        r.run("kad", kad)

        # --- errors do not crash the peer
        try:
            b.cat("not-a-cid", tmp / "x")
            r.check("bad request answers ok:false", False)
        except HeliaError:
            r.check("bad request answers ok:false, peer still alive", b.id()["peerId"] == b.peer_id)
    except Exception as e:  # noqa: BLE001
        r.failed += 1
        print(f"FAIL setup: {type(e).__name__}: {e}", flush=True)
        traceback.print_exc(file=sys.stderr)
    finally:
        for p in peers:
            p.stop()
        if r.failed:
            for p in peers:
                print(f"# --- {p.name} stderr tail:\n{p.stderr_tail(1500)}", file=sys.stderr)
        if r.failed:
            print(f"# logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{r.passed} passed, {r.failed} failed", flush=True)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
