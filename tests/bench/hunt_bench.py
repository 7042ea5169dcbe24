#!/usr/bin/env python3
"""Throughput of `gorr hunt` against running the same test natively with
`go test -count`: tests/gopkgs/sleepy, a test that sleeps 10 x 10 ms.
Natively each run takes the 100 ms it sleeps; under `gorr hunt` the sleeps
are virtual.  Prints runs per second of both, and their ratio.

With --flaky: instead, the throughput of `gorr hunt -n RUNS --keep-going`
on each test of examples/flaky (runs per second, and failing seeds), the
figure issue 11 asks for before and after decision points: run it with
GORR= each gorr to compare.

usage: hunt_bench.py [-n RUNS] [--flaky]     (make bench-hunt BENCH_ARGS=...)
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
    ap.add_argument("--flaky", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ, CGO_ENABLED="0", GO111MODULE="off", GOFLAGS="-buildvcs=false")
    if args.flaky:
        return flaky(args, env)
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


def flaky(args, env):
    pkg = os.path.join(ROOT, "examples", "flaky")
    tests = re.findall(r"^func (Test\w+)\(t \*testing\.T\)",
                       open(os.path.join(pkg, "flaky_test.go")).read(), re.M)
    ver = subprocess.run([GO, "version"], capture_output=True, text=True).stdout.split()[2]
    with tempfile.TemporaryDirectory() as tmp:
        test = os.path.join(tmp, "flaky.test")
        subprocess.run([GO, "test", "-c", "-o", test, "."], cwd=pkg, env=env, check=True)
        print(f"gorr hunt -n {args.n} --keep-going on examples/flaky, {ver}, gorr {GORR}")
        print(f"{'test':28} {'seconds':>8} {'runs/s':>7} {'failed':>7}")
        total_t, total_n = 0.0, 0
        for name in tests:
            start = time.monotonic()
            r = subprocess.run([GORR, "hunt", "-n", str(args.n), "--keep-going", "-q",
                                "--save", os.path.join(tmp, "s"), "--", test, "-test.run", f"^{name}$"],
                               capture_output=True, text=True)
            took = time.monotonic() - start
            m = re.search(r"(\d+) runs, (\d+) failed", r.stderr)
            failed = m.group(2) if m else "0"
            print(f"{name:28} {took:8.1f} {args.n / took:7.1f} {failed:>7}")
            total_t += took
            total_n += args.n
        print(f"{'all':28} {total_t:8.1f} {total_n / total_t:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
