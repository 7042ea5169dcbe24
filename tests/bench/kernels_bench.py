#!/usr/bin/env python3
"""How often plain reruns and `gorr hunt` show each bug of tests/kernels
(small blocking bugs in the style of the Go bug studies' kernels): the
proxy, in this repository, for the held-out bug set issue 11 measures.

For each test: N native runs of `kernels.test -test.run ^X$` (a run fails
on a non-zero exit or when it is still running after --native-timeout),
then `gorr hunt -n M --keep-going` over seeds 1..M.  Prints a table of
failing runs and seeds, the wall time of each, and the totals.

usage: kernels_bench.py [--go GO] [-n NATIVE] [-m SEEDS] [--chaos L]
                        [--tests REGEX] [--hunt-arg ARG ...] [--src DIR]
       (make bench-kernels BENCH_ARGS=...)
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GORR = os.environ.get("GORR", os.path.join(ROOT, "gorr"))


def list_tests(src):
    names = []
    for f in sorted(os.listdir(src)):
        if f.endswith("_test.go"):
            names += re.findall(r"^func (Test\w+)\(t \*testing\.T\)", open(os.path.join(src, f)).read(), re.M)
    return names


def native(test, name, n, timeout):
    fails = 0
    start = time.monotonic()
    for _ in range(n):
        try:
            r = subprocess.run([test, "-test.run", "^%s$" % name], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=timeout)
            fails += r.returncode != 0
        except subprocess.TimeoutExpired:
            fails += 1
    return fails, time.monotonic() - start


def hunt(test, name, m, chaos, extra, save):
    cmd = [GORR, "hunt", "-n", str(m), "--keep-going", "--json", "-q", "--save", save]
    if chaos is not None:
        cmd += ["--chaos", str(chaos)]
    cmd += extra + ["--", test, "-test.run", "^%s$" % name]
    start = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.monotonic() - start
    try:
        j = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        sys.exit("gorr hunt gave no summary (exit %d): %s" % (r.returncode, r.stderr[-500:]))
    reasons = sorted(set(f["reason"] for f in j["failures"]))
    return j["failed"], secs, reasons


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--go", default=os.environ.get("GO", "/usr/local/go/bin/go"))
    ap.add_argument("-n", type=int, default=20, help="native runs per test")
    ap.add_argument("-m", type=int, default=100, help="hunt seeds per test")
    ap.add_argument("--chaos", type=int, default=None)
    ap.add_argument("--tests", default=".")
    ap.add_argument("--native-timeout", type=float, default=10)
    ap.add_argument("--hunt-arg", action="append", default=[])
    ap.add_argument("--src", default=os.path.join(ROOT, "tests", "kernels"),
                    help="another package of kernels (a folder with *_test.go)")
    args = ap.parse_args()
    src = os.path.abspath(args.src)
    env = dict(os.environ, CGO_ENABLED="0", GO111MODULE="off", GOFLAGS="-buildvcs=false")
    with tempfile.TemporaryDirectory() as tmp:
        test = os.path.join(tmp, "kernels.test")
        subprocess.run([args.go, "test", "-c", "-o", test, "."], cwd=src, env=env, check=True)
        ver = subprocess.run([args.go, "version"], capture_output=True, text=True).stdout.split()[2]
        print("%s, %d native runs, gorr hunt -n %d%s%s" % (
            ver, args.n, args.m, " --chaos %d" % args.chaos if args.chaos is not None else "",
            "".join(" " + a for a in args.hunt_arg)))
        print("%-22s %8s %8s %10s %10s  %s" % ("test", "native", "hunt", "native s", "hunt s", "reasons"))
        tot = [0, 0, 0, 0]
        for name in list_tests(src):
            if not re.search(args.tests, name):
                continue
            nf, ns = native(test, name, args.n, args.native_timeout)
            hf, hs, reasons = hunt(test, name, args.m, args.chaos, args.hunt_arg, os.path.join(tmp, "save"))
            print("%-22s %4d/%-3d %4d/%-3d %10.1f %10.1f  %s" % (name, nf, args.n, hf, args.m, ns, hs,
                                                              ",".join(reasons)), flush=True)
            tot[0] += nf > 0
            tot[1] += hf > 0
            tot[2] += 1
        print("found by native reruns: %d of %d; by gorr hunt: %d of %d" % (tot[0], tot[2], tot[1], tot[2]))


if __name__ == "__main__":
    main()
