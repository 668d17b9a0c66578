"""Python driver for tests/interop/helia/peer.mjs: a loopback-only Helia 7 peer
controlled by line-delimited JSON over stdin/stdout (protocol: README.md here).

Stdlib only (Python >= 3.11). Typical use, inside a network namespace that has
only `lo` (peer.mjs refuses to start anywhere else):

    from helia_client import HeliaPeer
    with HeliaPeer() as a, HeliaPeer() as b:
        b.connect(a.addrs[0])
        cid = a.add_bytes(b"hello", kubo=True)
        res = b.cat(cid, "/tmp/out.bin", timeout_ms=30_000)

Every request gets an id; responses are matched by id (peer.mjs may answer out
of order: requests run concurrently). Unsolicited events (`{"event": ...}`)
are queued and read with `next_event()` / `wait_event()`. The peer's stderr
goes to `stderr_path` (a temp file unless given) so it can never block.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


class HeliaError(RuntimeError):
    """The peer answered ok:false, died, or did not answer in time."""


def find_node() -> str:
    """The Node 22 binary: $HELIA_NODE, else whatever scripts/setup-helia.sh prints
    (it installs Node 22 and runs `npm ci` here when needed)."""
    env = os.environ.get("HELIA_NODE")
    if env:
        return env
    out = subprocess.run([str(ROOT / "scripts" / "setup-helia.sh")], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


class HeliaPeer:
    def __init__(self, node: str | None = None, dht_protocol: str = "/ipfs/lan/kad/1.0.0",
                 dht_mode: str = "server", listen: str = "/ip4/127.0.0.1/tcp/0",
                 stderr_path: str | os.PathLike | None = None, start_timeout: float = 60.0,
                 name: str = "helia"):
        self.name = name
        node = node or find_node()
        if stderr_path is None:
            fd, stderr_path = tempfile.mkstemp(prefix=f"{name}-", suffix=".stderr.log")
            os.close(fd)
        self.stderr_path = str(stderr_path)
        self._stderr = open(self.stderr_path, "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [node, str(HERE / "peer.mjs"), "--dht-protocol", dht_protocol,
             "--dht-mode", dht_mode, "--listen", listen],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            cwd=str(HERE), bufsize=0)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._waiters: dict[int, queue.Queue] = {}
        self.events: queue.Queue = queue.Queue()
        self._dead: str | None = None
        self._reader = threading.Thread(target=self._read_loop, name=f"{name}-stdout", daemon=True)
        self._reader.start()
        try:
            ready = self.wait_event(lambda e: e.get("event") in ("ready", "fatal"), timeout=start_timeout)
        except HeliaError:
            self.close()
            raise
        if ready["event"] != "ready":
            self.close()
            raise HeliaError(f"{name}: peer failed to start: {ready.get('error')}; stderr: {self.stderr_tail()}")
        self.start_seconds = time.monotonic() - t0
        self.peer_id: str = ready["peerId"]
        self.addrs: list[str] = ready["addrs"]

    # plumbing -----------------------------------------------------------

    def _read_loop(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                self.events.put({"event": "garbage", "line": line})
                continue
            if "event" in msg:
                self.events.put(msg)
                continue
            with self._lock:
                q = self._waiters.pop(msg.get("id"), None)
            if q is not None:
                q.put(msg)
        rc = self.proc.wait()
        self._dead = f"peer exited with status {rc}"
        with self._lock:
            waiters, self._waiters = list(self._waiters.values()), {}
        for q in waiters:
            q.put({"ok": False, "error": self._dead})
        self.events.put({"event": "exit", "status": rc})

    def stderr_tail(self, n: int = 2000) -> str:
        try:
            return Path(self.stderr_path).read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def request(self, cmd: str, timeout: float = 60.0, **args: Any) -> dict:
        """Send one command, wait for its response; raise HeliaError on ok:false or timeout."""
        if self._dead:
            raise HeliaError(f"{self.name}: {self._dead}")
        rid = next(self._ids)
        q: queue.Queue = queue.Queue(maxsize=1)
        with self._lock:
            self._waiters[rid] = q
        line = json.dumps({"id": rid, "cmd": cmd, **args}) + "\n"
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(line.encode())
            self.proc.stdin.flush()
        except OSError as e:
            with self._lock:
                self._waiters.pop(rid, None)
            raise HeliaError(f"{self.name}: cannot write to peer: {e}") from e
        try:
            res = q.get(timeout=timeout)
        except queue.Empty:
            with self._lock:
                self._waiters.pop(rid, None)
            raise HeliaError(f"{self.name}: no answer to {cmd} within {timeout}s") from None
        if not res.get("ok"):
            raise HeliaError(f"{self.name}: {cmd} failed: {res.get('error')}")
        return res

    def next_event(self, timeout: float = 10.0) -> dict:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise HeliaError(f"{self.name}: no event within {timeout}s") from None

    def wait_event(self, pred: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        """Return the first queued event matching pred; other events are kept, in order."""
        deadline = time.monotonic() + timeout
        skipped: list[dict] = []
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HeliaError(f"{self.name}: expected event not seen within {timeout}s; "
                                     f"stderr: {self.stderr_tail(800)}")
                ev = self.next_event(timeout=left)
                if pred(ev):
                    return ev
                if ev.get("event") == "exit":
                    skipped.append(ev)
                    raise HeliaError(f"{self.name}: peer exited (status {ev.get('status')}); "
                                     f"stderr: {self.stderr_tail(800)}")
                skipped.append(ev)
        finally:
            # put back what we skipped, ahead of anything that arrived meanwhile
            rest = []
            while True:
                try:
                    rest.append(self.events.get_nowait())
                except queue.Empty:
                    break
            for ev in skipped + rest:
                self.events.put(ev)

    def wait_message(self, topic: str, timeout: float = 10.0) -> dict:
        """Wait for a pubsub message event on topic; adds `data` (bytes)."""
        ev = self.wait_event(lambda e: e.get("event") == "message" and e.get("topic") == topic, timeout)
        ev["data"] = base64.b64decode(ev["data_b64"])
        return ev

    # commands -----------------------------------------------------------

    def id(self) -> dict:
        return self.request("id")

    def connect(self, addr: str, timeout_ms: int = 10_000) -> dict:
        return self.request("connect", addr=addr, timeout_ms=timeout_ms, timeout=timeout_ms / 1000 + 10)

    def peers(self) -> list[dict]:
        return self.request("peers")["peers"]

    def add(self, path: str | os.PathLike, kubo: bool = True, timeout: float = 300.0) -> str:
        return self.request("add", path=os.fspath(Path(path).resolve()), kubo=kubo, timeout=timeout)["cid"]

    def add_bytes(self, data: bytes, kubo: bool = True) -> str:
        return self.request("add_bytes", base64=base64.b64encode(data).decode(), kubo=kubo)["cid"]

    def cat(self, cid: str, out_path: str | os.PathLike, timeout_ms: int = 60_000) -> dict:
        """Fetch cid (over bitswap if not local) into out_path: {bytes, sha256, ms}."""
        return self.request("cat", cid=cid, out_path=os.fspath(Path(out_path).resolve()),
                            timeout_ms=timeout_ms, timeout=timeout_ms / 1000 + 10)

    def has_block(self, cid: str) -> bool:
        return self.request("has_block", cid=cid)["has"]

    def subscribe(self, topic: str) -> list[str]:
        return self.request("subscribe", topic=topic)["topics"]

    def unsubscribe(self, topic: str) -> list[str]:
        return self.request("unsubscribe", topic=topic)["topics"]

    def topic_peers(self, topic: str) -> list[str]:
        return self.request("topic_peers", topic=topic)["peers"]

    def publish(self, topic: str, data: bytes, timeout_ms: int = 10_000) -> dict:
        """Waits until some peer is subscribed to topic (else error after timeout_ms)."""
        return self.request("publish", topic=topic, data_b64=base64.b64encode(data).decode(),
                            timeout_ms=timeout_ms, timeout=timeout_ms / 1000 + 10)

    def provide(self, cid: str, timeout_ms: int = 30_000) -> dict:
        return self.request("provide", cid=cid, timeout_ms=timeout_ms, timeout=timeout_ms / 1000 + 10)

    def find_providers(self, cid: str, timeout_ms: int = 10_000, max: int | None = None) -> list[dict]:
        """[{peerId, addrs}] found via kad-dht until the query ends, timeout_ms, or `max` found."""
        args: dict[str, Any] = {"cid": cid, "timeout_ms": timeout_ms}
        if max is not None:
            args["max"] = max
        return self.request("find_providers", timeout=timeout_ms / 1000 + 10, **args)["providers"]

    def routing_table(self) -> dict:
        return self.request("routing_table")

    # lifetime -----------------------------------------------------------

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None and not self._dead:
            try:
                self.request("stop", timeout=timeout)
            except HeliaError:
                pass
        self.close(timeout)

    def close(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()

    def __enter__(self) -> "HeliaPeer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
