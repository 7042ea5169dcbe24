#!/usr/bin/env python3
"""Replay's cost: a trace of about a million events (tests/bench/pingpong.go,
230000 rounds) is recorded, then replayed.  Prints the wall time of each
and gorr's own peak RSS (GNU time's %M: the command's maximum resident set,
not its children's), which must stay flat: replay streams the trace.

usage: replay_bench.py [-n ROUNDS]     (make bench-replay)
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GORR = os.environ.get("GORR", os.path.join(ROOT, "gorr"))
GO = os.environ.get("GO", "/usr/local/go/bin/go")


def timed_rss(cmd):
    """Wall seconds and gorr's own peak RSS in KiB (GNU time's %M is the
    maximum resident set size of the command itself, not its children)."""
    start = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "RSS %M"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    m = re.search(r"RSS (\d+)", r.stderr)
    if r.returncode != 0:
        sys.exit(f"{cmd} failed: {r.stderr[-800:]}")
    return elapsed, int(m.group(1)) if m else -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=230000, help="pingpong rounds (default 230000)")
    args = ap.parse_args()
    if not os.path.exists("/usr/bin/time"):
        sys.exit("replay_bench: needs GNU time (apt-get install time)")
    tmp = tempfile.mkdtemp(prefix="gorr-rbench-")
    try:
        prog = os.path.join(tmp, "pingpong")
        env = dict(os.environ, CGO_ENABLED="0", GO111MODULE="off",
                   GOCACHE=os.path.join(ROOT, "tests", "build", "gocache"))
        subprocess.run([GO, "build", "-o", prog, os.path.join(ROOT, "tests", "bench", "pingpong.go")],
                       check=True, env=env)
        trace = os.path.join(tmp, "big.gorr")
        rec_t, rec_rss = timed_rss([GORR, "record", "-q", "-o", trace, "--", prog, str(args.n)])
        rep_t, rep_rss = timed_rss([GORR, "replay", "-q", trace])
        dump_events = int(subprocess.run([GORR, "dump", trace], capture_output=True, text=True)
                          .stdout.strip().splitlines()[-1].split()[0]) + 1
        print(f"pingpong {args.n} rounds: {dump_events} events, trace {os.path.getsize(trace) / 2**20:.0f} MiB")
        print(f"  record: {rec_t:7.2f} s  gorr peak RSS {rec_rss / 1024:6.1f} MiB")
        print(f"  replay: {rep_t:7.2f} s  gorr peak RSS {rep_rss / 1024:6.1f} MiB")
        print(f"  replay / record time: {rep_t / rec_t:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
