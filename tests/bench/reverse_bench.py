#!/usr/bin/env python3
"""Reverse execution's cost (issue 13): a trace of about 2N events
(tests/bench/reverse.go) is recorded; gdb, connected to `gorr replay
--gdb`, stops at a function called near the start and again near the
end, then reverse-continues back to the first call: the replay runs again
from the start twice (once to find the last hit before the place, once to
go there).  Prints the events, the record and plain replay times, and
how long gdb waited for the reverse-continue's answer.

usage: reverse_bench.py [-n EVENTS]     (make bench-reverse)
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=50000, help="time.Now calls (two clock reads, two events, each)")
    args = ap.parse_args()
    if not shutil.which("gdb"):
        sys.exit("reverse_bench: needs gdb")
    tmp = tempfile.mkdtemp(prefix="gorr-reverse-")
    exe = os.path.join(tmp, "reverse")
    env = dict(os.environ, GO111MODULE="off", CGO_ENABLED="0", GOFLAGS="-buildvcs=false")
    subprocess.run([GO, "build", "-o", exe, os.path.join(ROOT, "tests", "bench", "reverse.go")],
                   check=True, env=env)
    trace = os.path.join(tmp, "reverse.gorr")
    t0 = time.monotonic()
    subprocess.run([GORR, "record", "-q", "-o", trace, "--", exe, str(args.n)], check=True,
                   stdout=subprocess.DEVNULL)
    t_rec = time.monotonic() - t0
    dump = subprocess.run([GORR, "dump", trace], capture_output=True, text=True).stdout
    events = sum(1 for l in dump.splitlines() if re.match(r"^\s*\d+ \[", l))
    t0 = time.monotonic()
    subprocess.run([GORR, "replay", "-q", trace], check=True, stdout=subprocess.DEVNULL)
    t_rep = time.monotonic() - t0
    rep = subprocess.Popen([GORR, "replay", "--gdb", "0", trace], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    port = re.search(r"127\.0\.0\.1:(\d+)", rep.stderr.readline().decode()).group(1)
    cmds = ["target remote 127.0.0.1:" + port, "break main.mark", "continue", "continue",
            "p i", "python import time; gorr_t0 = time.monotonic()", "reverse-continue",
            "python print('REVERSE %.3f' % (time.monotonic() - gorr_t0))", "p i",
            "monitor when", "kill"]
    g = subprocess.run(["gdb", "-q", "-batch", "-nx"] + sum((["-ex", c] for c in cmds), []) + [exe],
                       capture_output=True, text=True, timeout=600)
    rep.wait(timeout=60)
    out = g.stdout + g.stderr
    m = re.search(r"REVERSE ([\d.]+)", out)
    vals = re.findall(r"^\$\d+ = (\d+)$", out, re.M)
    if not m or vals != [str(args.n - 10), "10"]:
        sys.exit("reverse_bench: the session did not go as planned:\n" + out[-3000:])
    print(f"trace: {events} events; record {t_rec:.2f} s; replay {t_rep:.2f} s; "
          f"reverse-continue from the last call back to the first: {float(m.group(1)):.2f} s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
