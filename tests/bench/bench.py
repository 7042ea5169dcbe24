#!/usr/bin/env python3
"""gorr's benchmark: the cost of `gorr record` against a native run and
against `strace -f`, on real Go workloads.

Each workload runs natively (as a user would run it, unpinned), natively
pinned to one CPU, under `gorr record` (which pins itself and the program to
one CPU, its default), and under `strace -f -o /dev/null` pinned to the same
CPU with taskset (tracer and tracee pinned alike, as DESIGN.md says).  Runs
are interleaved (native, gorr, strace, native, ...) so that drift in the
machine's speed hits every mode alike; the median of each mode is reported
with ratios.

With --baseline OTHER_GORR, that gorr's `record` is one more mode, and
`gorr run --seed 1` of both gorrs two more, interleaved with the others: a change that must not cost anything (a
refactoring) is measured against the gorr before it in the same run.

usage: bench.py [-n RUNS] [--quick] [--baseline GORR] [WORKLOAD...]
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
GO = os.environ.get("GO", "/usr/local/go/bin/go")


def build(tmp, src, name):
    out = os.path.join(tmp, name)
    env = dict(os.environ, CGO_ENABLED="0", GO111MODULE="off",
               GOCACHE=os.path.join(ROOT, "tests", "build", "gocache"))
    subprocess.run([GO, "build", "-o", out, src], check=True, env=env)
    return out


def timed(cmd):
    start = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        sys.exit(f"bench: {cmd} failed ({r.returncode}): {r.stderr.decode()[-500:]}")
    return elapsed


def clock_reads(trace):
    """The clock reads in a trace (clk events), or None without msgpack."""
    try:
        import msgpack
    except ImportError:
        return None
    with open(trace, "rb") as f:
        return sum(1 for o in msgpack.Unpacker(f, raw=False, strict_map_key=False)
                   if isinstance(o, dict) and o.get("e") == "clk")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=5, help="runs per mode (default 5)")
    ap.add_argument("--quick", action="store_true", help="smaller workloads")
    ap.add_argument("--baseline", metavar="GORR",
                    help="also time this gorr's record, interleaved (before/after a change)")
    ap.add_argument("workloads", nargs="*")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="gorr-bench-")
    try:
        http = build(tmp, os.path.join(ROOT, "examples", "httploop", "main.go"), "httploop")
        pp = build(tmp, os.path.join(ROOT, "tests", "bench", "pingpong.go"), "pingpong")
        floor = build(tmp, os.path.join(ROOT, "tests", "bench", "clockfloor.go"), "clockfloor")
        scale = 5 if args.quick else 1
        workloads = {
            "http": [http, str(2000 // scale)],
            "pingpong": [pp, str(20000 // scale)],
        }
        chosen = args.workloads or list(workloads)
        trace = os.path.join(tmp, "bench.gorr")
        cpu = str(min(os.sched_getaffinity(0)))
        have_strace = shutil.which("strace") is not None
        modes = {
            "native": lambda w: w,
            "native-pinned": lambda w: ["taskset", "-c", cpu] + w,
            "gorr-record": lambda w: [GORR, "record", "-q", "--pin", cpu, "-o", trace, "--"] + w,
            "gorr-no-pin": lambda w: [GORR, "record", "-q", "--no-pin", "-o", trace + ".np", "--"] + w,
        }
        if args.baseline:
            base = os.path.abspath(args.baseline)
            modes["baseline-record"] = lambda w: [base, "record", "-q", "--pin", cpu, "-o",
                                                  trace + ".base", "--"] + w
            modes["gorr-run"] = lambda w: [GORR, "run", "-q", "--seed", "1", "--pin", cpu, "--"] + w
            modes["baseline-run"] = lambda w: [base, "run", "-q", "--seed", "1", "--pin", cpu,
                                               "--"] + w
        if have_strace:
            modes["strace-f"] = lambda w: ["taskset", "-c", cpu, "strace", "-f", "-qq",
                                           "-o", "/dev/null"] + w
        print(f"gorr: {GORR}" + (f"\nbaseline: {args.baseline}" if args.baseline else "")
              + f"\ngo: {subprocess.run([GO, 'version'], capture_output=True, text=True).stdout.strip()}")
        print(f"kernel: {os.uname().release}, cpus: {os.cpu_count()}, runs per mode: {args.n}\n")
        for name in chosen:
            w = workloads[name]
            times = {m: [] for m in modes}
            for m in modes:     # one warm-up run each, not counted
                timed(modes[m](w))
            for _ in range(args.n):
                for m in modes:
                    times[m].append(timed(modes[m](w)))
            med = {m: statistics.median(t) for m, t in times.items()}
            events = None
            try:
                import msgpack
                with open(trace, "rb") as f:
                    events = sum(1 for _ in msgpack.Unpacker(f, raw=False)) - 1
            except ImportError:
                pass
            size = os.path.getsize(trace)
            print(f"workload {name}: {' '.join(os.path.basename(x) for x in w)}")
            for m in modes:
                spread = max(times[m]) - min(times[m])
                print(f"  {m:14s} median {med[m]*1000:9.1f} ms  (spread {spread*1000:.1f} ms)"
                      f"  {med[m]/med['native']:6.2f}x native")
            if have_strace:
                print(f"  gorr-record / strace-f: {med['gorr-record']/med['strace-f']:.2f}x")
            if args.baseline:
                print(f"  gorr-record / baseline-record: "
                      f"{med['gorr-record']/med['baseline-record']:.3f}x")
                print(f"  gorr-run / baseline-run: {med['gorr-run']/med['baseline-run']:.3f}x")
            print(f"  trace: {events if events is not None else '?'} events, {size/1024:.0f} KiB,"
                  f" {events/med['gorr-record']:.0f} events/s" if events else "")
            reads = clock_reads(trace)
            if reads:
                # A recorded read is a real clock_gettime syscall (the
                # kernel's vDSO needs rdtsc, which gorr traps): the floor
                # under the recording, natively measured, pinned.
                out = subprocess.run(["taskset", "-c", cpu, floor], capture_output=True,
                                     text=True).stdout.split()
                vdso_ns, sys_ns = float(out[0]), float(out[1])
                print(f"  clock reads: {reads}; a read costs {vdso_ns:.0f} ns through the"
                      f" kernel's vDSO, {sys_ns:.0f} ns as a syscall: {reads*sys_ns/1e6:.1f} ms"
                      f" of syscalls under record, {reads*sys_ns/1e9/med['native-pinned']:.2f}x"
                      f" native-pinned")
            print()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
