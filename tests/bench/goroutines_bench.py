#!/usr/bin/env python3
"""What reading a stopped process's goroutines costs: tests/progs/manyg.go
with N goroutines (default 1000) blocked, built with each toolchain, plain
(layout from DWARF) and stripped (layout from gorr's table), stopped with
SIGSTOP; build/tests/test_goroutines times the layout lookup once, the
list 50 times (median), and the listing with every stack unwound and
symbolized.

usage: goroutines_bench.py [-n GOROUTINES]     (make bench-goroutines)
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "build", "tests", "test_goroutines")
TOOLCHAINS = ["/usr/local/go/bin/go", "/usr/lib/go-1.19/bin/go"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1000)
    args = ap.parse_args()
    src = os.path.join(ROOT, "tests", "progs", "manyg.go")
    env = dict(os.environ, CGO_ENABLED="0", GO111MODULE="off", GOFLAGS="-buildvcs=false")
    with tempfile.TemporaryDirectory() as tmp:
        for go in TOOLCHAINS:
            if not os.access(go, os.X_OK):
                print(f"skip {go}: not installed")
                continue
            for stripped in (False, True):
                out = os.path.join(tmp, "manyg" + ("-stripped" if stripped else ""))
                cmd = [go, "build", "-o", out] + (["-ldflags=-s -w"] if stripped else []) + [src]
                subprocess.run(cmd, env=dict(env, GOROOT=os.path.dirname(os.path.dirname(go))),
                               check=True)
                r = subprocess.run([TOOL, "bench", out, str(args.n)], capture_output=True, text=True)
                sys.stdout.write(r.stdout.replace(tmp + "/", ""))
                if r.returncode:
                    sys.stderr.write(r.stderr)
                    return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
