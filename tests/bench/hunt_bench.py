#!/usr/bin/env python3
"""Throughput of `gorr hunt` against running the same test natively with
`go test -count`: tests/gopkgs/sleepy, a test that sleeps 10 x 10 ms.
Natively each run takes the 100 ms it sleeps; under `gorr hunt` the sleeps
are virtual.  Prints runs per second of both, and their ratio.

usage: hunt_bench.py [-n RUNS]     (make bench-hunt)
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GORR = os.environ.get("GORR", os.path.join(ROOT, "gorr"))
GO = os.environ.get("GO", "/usr/local/go/bin/go")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    args = ap.parse_args()
    env = dict(os.environ, CGO_ENABLED="0", GO111MODULE="off", GOFLAGS="-buildvcs=false")
    pkg = os.path.join(ROOT, "tests", "gopkgs", "sleepy")
    with tempfile.TemporaryDirectory() as tmp:
        test = os.path.join(tmp, "sleepy.test")
        subprocess.run([GO, "test", "-c", "-o", test, "."], cwd=pkg, env=env, check=True)
        # Natively: the test binary with -test.count, as go test -count runs it.
        start = time.monotonic()
        subprocess.run([test, "-test.count", str(args.n)], check=True, stdout=subprocess.DEVNULL)
        native = time.monotonic() - start
        # gorr hunt, one seed per run, on every CPU gorr may use.
        start = time.monotonic()
        r = subprocess.run([GORR, "hunt", "-n", str(args.n), "--save", os.path.join(tmp, "s"),
                            "--", test], capture_output=True, text=True)
        hunt = time.monotonic() - start
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            return 1
        jobs = len(os.sched_getaffinity(0))
        print(f"{args.n} runs of TestSleeps (10 x 10 ms sleeps):")
        print(f"  go test -count={args.n} (native, one process): {native:.2f} s, "
              f"{args.n / native:.1f} runs/s")
        print(f"  gorr hunt -n {args.n} (-j {jobs}, virtual time, chaos 1): {hunt:.2f} s, "
              f"{args.n / hunt:.1f} runs/s ({native / hunt:.1f}x native)")
        m = re.search(r"([\d.]+) runs/s", r.stderr)
        if m:
            print(f"  (hunt's own figure: {m.group(1)} runs/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
