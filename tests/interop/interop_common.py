"""Shared helpers for the interop scripts: deterministic bytes, the wanda CLI, a wanda daemon."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path


def seed_bytes(seed: str, n: int) -> bytes:
    """bytes(seed, n) = SHA-256(seed || u64_le(k)) for k = 0, 1, … (as tests/vectors)."""
    out = bytearray()
    k = 0
    while len(out) < n:
        out += hashlib.sha256(seed.encode() + k.to_bytes(8, "little")).digest()
        k += 1
    return bytes(out[:n])


def wanda(bin_: str, repo: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([bin_, "--repo", str(repo), *args], capture_output=True, timeout=timeout)


class WandaDaemon:
    """A `wanda daemon` on ephemeral loopback ports with `files` added before it starts."""

    def __init__(self, bin_: str, repo: Path, files: dict[str, bytes]):
        self.bin, self.repo = bin_, repo
        wanda(bin_, repo, "init").check_returncode()
        wanda(bin_, repo, "config", "addresses.api", "/ip4/127.0.0.1/tcp/0").check_returncode()
        wanda(bin_, repo, "config", "addresses.swarm", '["/ip4/127.0.0.1/tcp/0"]').check_returncode()
        # the main listener (gateway + app) too: several daemons share one namespace
        wanda(bin_, repo, "config", "addresses.gateway", "/ip4/127.0.0.1/tcp/0").check_returncode()
        wanda(bin_, repo, "config", "camera.driver", "sim").check_returncode()
        self.cids: dict[str, str] = {}
        for name, data in files.items():
            f = repo.parent / name
            f.write_bytes(data)
            self.cids[name] = wanda(bin_, repo, "add", "-Q", str(f)).stdout.decode().strip()
        self.proc = subprocess.Popen([bin_, "--repo", str(repo), "daemon"], stdout=subprocess.DEVNULL,
                                     stderr=open(repo.parent / "daemon.log", "wb"))
        deadline = time.time() + 20
        while not (repo / "api").exists():
            if time.time() > deadline:
                raise RuntimeError("wanda daemon did not start")
            time.sleep(0.05)
        ident = json.loads(wanda(bin_, repo, "id").stdout)
        self.peer_id: str = ident["ID"]
        self.addr: str = ident["Addresses"][0]

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return wanda(self.bin, self.repo, *args, timeout=timeout)

    def wait_topic_peer(self, topic: str, peer: str, timeout: float = 20) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if peer in self.run("pubsub", "peers", topic).stdout.decode():
                return True
            time.sleep(0.2)
        return False

    def subscribe(self, topic: str) -> subprocess.Popen:
        return subprocess.Popen([self.bin, "--repo", str(self.repo), "pubsub", "sub", topic, "--count", "1"],
                                stdout=subprocess.PIPE)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wait_for_subscriber(sub: subprocess.Popen, publish, deadline: float = 20, every: float = 0.5) -> str:
    """Calls `publish()` every `every` seconds until the `pubsub sub --count 1` process `sub` exits;
    returns what it printed ("" if it printed nothing within `deadline` seconds; then it is killed)."""
    end = time.time() + deadline
    while time.time() < end:
        publish()
        try:
            out, _ = sub.communicate(timeout=every)
            return out.decode()
        except subprocess.TimeoutExpired:
            continue
    sub.kill()
    sub.communicate()
    return ""


class Tally:
    """Prints ok/FAIL lines and the closing `N passed, M failed`."""

    def __init__(self) -> None:
        self.passed = self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        if ok:
            self.passed += 1
            print(f"ok   {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}", flush=True)

    def finish(self, keep_on_failure: Path | None = None) -> int:
        """Prints the tally; removes the scratch directory `keep_on_failure` when all passed
        (its files and logs stay for a look when something failed)."""
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        if keep_on_failure is not None:
            if self.failed:
                print(f"logs and files kept in {keep_on_failure}", flush=True)
            else:
                shutil.rmtree(keep_on_failure, ignore_errors=True)
        return 1 if self.failed else 0
