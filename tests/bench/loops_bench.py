#!/usr/bin/env python3
"""Replay of CPU-bound loops (issue 12, item 1): tests/progs/tightloop.go in
each of its modes, per toolchain, recorded N times and each recording
replayed once.  A worker loops until a later goroutine sets a flag, so its
timeslice ends inside the loop, 10^7-10^8 laps in.  Prints per mode the
native time (pinned to the CPU gorr pins to), the record and replay times
(median), replay/record, and how many replays gave the recorded output
with status 0.  gorr record is pinned with the program to --cpu; replay
pins itself and the program to the first CPU it may use (its default).

usage: loops_bench.py [-n N] [--modes m,m] [--go PATH ...]   (make bench-loops)
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GORR = os.environ.get("GORR", os.path.join(ROOT, "gorr"))
MODES = ["count", "store", "nested", "sha256", "json", "array", "crc", "sort"]
GOS = ["/usr/local/go/bin/go", "/usr/lib/go-1.19/bin/go"]


def timed(cmd, env, timeout):
    start = time.monotonic()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return time.monotonic() - start, None
    return time.monotonic() - start, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=3, help="recordings per mode (default 3)")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--go", action="append", help="toolchains (default: Go 1.26 and 1.19)")
    ap.add_argument("--cpu", default="0", help="the CPU to pin to (default 0)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="gorr-lbench-")
    env = dict(os.environ, GOMAXPROCS="4")
    fails = 0
    try:
        print(f"kernel {os.uname().release}, cpus {os.cpu_count()}, {args.n} recordings per mode\n")
        print("| toolchain | mode | native | record | replay | replay/record | replayed same |")
        print("|---|---|---|---|---|---|---|")
        for go in args.go or GOS:
            if not os.path.exists(go):
                print(f"(skipped {go}: not installed)")
                continue
            ver = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
            prog = os.path.join(tmp, "tightloop-" + ver)
            benv = dict(os.environ, CGO_ENABLED="0", GO111MODULE="off",
                        GOCACHE=os.path.join(ROOT, "tests", "build", "gocache-" + ver))
            subprocess.run([go, "build", "-o", prog, os.path.join(ROOT, "tests", "progs", "tightloop.go")],
                           check=True, env=benv)
            for mode in args.modes.split(","):
                nat, rec, rep, same = [], [], [], 0
                for i in range(args.n):
                    t, r = timed(["taskset", "-c", args.cpu, prog, mode], env, 60)
                    nat.append(t)
                    trace = os.path.join(tmp, f"{ver}-{mode}-{i}.gorr")
                    t, r = timed([GORR, "record", "-q", "--pin", args.cpu, "-o", trace, "--", prog, mode],
                                 env, 120)
                    if r is None or r.returncode != 0:
                        sys.exit(f"record of {mode} failed: {r and r.stderr[-500:]}")
                    rec.append(t)
                    want = r.stdout
                    t, r = timed([GORR, "replay", "-q", "--stuck-after", "60s", trace], env, 120)
                    rep.append(t)
                    if r is not None and r.returncode == 0 and r.stdout == want:
                        same += 1
                    else:
                        fails += 1
                        print(f"  ({mode} recording {i}: replay "
                              f"{'timed out' if r is None else 'status %d' % r.returncode})", file=sys.stderr)
                mr, mp = statistics.median(rec), statistics.median(rep)
                print(f"| {ver} | {mode} | {statistics.median(nat) * 1000:.0f} ms | {mr * 1000:.0f} ms "
                      f"| {mp * 1000:.0f} ms | {mp / mr:.2f} | {same}/{args.n} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
