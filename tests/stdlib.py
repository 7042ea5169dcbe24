#!/usr/bin/env python3
"""The standard library's own tests as gorr's fidelity corpus (issue 15).

For each package and toolchain: `go test -c` the package, run the test
binary natively (-test.short, in the package's source folder, where its
testdata is), then `gorr record` it, `gorr replay` the trace, and compare
output and status; then `gorr run --seed 1` twice and compare the traces'
events (`gorr dump`).  A package that fails natively is listed and
skipped with its reason.  Prints one line per package and toolchain and
closes with "N passed, N failed, N skipped".

Usage: stdlib.py [--quick] [--timeout S] [--records N] [PKG...]
  GORR (default ./gorr), GORR_GO_TOOLCHAINS (colon-separated go binaries,
  default /usr/local/go/bin/go:/usr/lib/go-1.19/bin/go).
  --quick: the subset `make check` could afford (bufio sort errors
  unicode/utf8 context).
  --records N: record and replay each package N times (default 1): issue
  15 asks for 3 of 3; the time printed is the slowest record and replay.
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GORR = os.environ.get("GORR", os.path.join(ROOT, "gorr"))
TOOLCHAINS = os.environ.get("GORR_GO_TOOLCHAINS",
                            "/usr/local/go/bin/go:/usr/lib/go-1.19/bin/go").split(":")
PACKAGES = ("bufio bytes compress/gzip container/heap container/list container/ring "
            "context crypto/sha256 encoding/base64 encoding/binary encoding/json errors fmt "
            "io math/big math/rand net/url os path/filepath regexp sort strconv strings "
            "sync text/template time unicode/utf8 net/http os/exec").split()
QUICK = "bufio sort errors unicode/utf8 context".split()


def run(cmd, cwd=None, timeout=300, env=None):
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout, env=env)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - start
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b"", e.stderr or b"", time.monotonic() - start


def dump(trace):
    rc, out, _, _ = run([GORR, "dump", trace])
    return out if rc == 0 else None


def one(go, version, pkg, work, timeout, records=1):
    """(status, detail): status PASS, FAIL or SKIP."""
    goroot = os.path.dirname(os.path.dirname(go))
    src = os.path.join(goroot, "src", pkg)
    binary = os.path.join(work, version + "-" + pkg.replace("/", "_") + ".test")
    env = dict(os.environ, GOTOOLCHAIN="local", GOROOT=goroot, GOFLAGS="-buildvcs=false")
    if not os.path.exists(binary):
        rc, _, err, _ = run([go, "test", "-c", "-o", binary, pkg], env=env, timeout=600)
        if rc != 0:
            return "SKIP", "does not build: " + err.decode(errors="replace").strip()[-200:]
    args = [binary, "-test.short"]
    rc, out, err, native = run(args, cwd=src, timeout=timeout)
    if rc != 0:
        return "SKIP", "fails natively (status %s): %s" % (rc, (out + err).decode(errors="replace").strip()[-160:])
    trace = os.path.join(work, "t.gorr")
    t_rec = t_rep = 0.0
    for k in range(records):
        rc_r, out_r, err_r, took_r = run([GORR, "record", "-q", "-o", trace, "--"] + args, cwd=src,
                                         timeout=timeout)
        nth = " (recording %d of %d)" % (k + 1, records) if records > 1 else ""
        if rc_r is None:
            return "FAIL", "record timed out after %d s%s" % (timeout, nth)
        if rc_r != 0:
            return "FAIL", "record: status %s%s: %s" % (rc_r, nth, err_r.decode(errors="replace").strip()[-200:])
        rc_p, out_p, err_p, took_p = run([GORR, "replay", trace], cwd=src, timeout=timeout)
        if rc_p is None:
            return "FAIL", "replay timed out after %d s (record %.2f s)%s" % (timeout, took_r, nth)
        if (rc_p, out_p) != (rc_r, out_r):
            return "FAIL", "replay status %s, output %s%s: %s" % (
                rc_p, "same" if out_p == out_r else "differs", nth,
                err_p.decode(errors="replace").strip().splitlines()[:3])
        t_rec, t_rep = max(t_rec, took_r), max(t_rep, took_p)
    dumps, t_run, warned = [], 0.0, False
    for i in range(2):
        t = os.path.join(work, "run%d.gorr" % i)
        rc_u, out_u, err_u, took = run([GORR, "run", "--seed", "1", "-o", t, "--"] + args,
                                       cwd=src, timeout=timeout)
        # gorr's own lines are not the program's: a stripped status
        # needs the program's output only.
        warned = warned or b"may not repeat exactly" in err_u
        t_run = took
        if rc_u is None:
            return "FAIL", "run timed out after %d s" % timeout
        if rc_u != 0:
            return "FAIL", "run: status %s: %s" % (rc_u, (out_u + err_u).decode(errors="replace").strip()[-200:])
        dumps.append(dump(t))
    if dumps[0] is None or dumps[0] != dumps[1]:
        first = ""
        if dumps[0] is not None and dumps[1] is not None:
            a = dumps[0].decode(errors="replace").splitlines()
            b = dumps[1].decode(errors="replace").splitlines()
            diff = [x for x, y in zip(a, b) if x != y]
            calls = sorted({x.split("]", 1)[-1].split("(", 1)[0].strip() for x in diff})
            first = "; %d events differ%s, in %s" % (
                len(diff) + abs(len(a) - len(b)), " and the lengths" if len(a) != len(b) else "",
                ", ".join(calls[:5]))
        return "FAIL", "two runs with seed 1 gave different traces%s%s" % (first,
            " (gorr warned: a timeslice ended by the real-time interrupt, code with no "
            "syscall and no decision point for 200 ms)" if warned else "")
    return "PASS", "native %.2f s, record %.2f s, replay %.2f s (%.2fx), run %.2f s" % (
        native, t_rec, t_rep, t_rep / t_rec if t_rec else 0.0, t_run)


def main():
    argv = sys.argv[1:]
    timeout = 300
    records = 1
    pkgs = []
    while argv:
        a = argv.pop(0)
        if a == "--quick":
            pkgs += QUICK
        elif a == "--timeout":
            timeout = int(argv.pop(0))
        elif a == "--records":
            records = int(argv.pop(0))
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            pkgs.append(a)
    pkgs = pkgs or PACKAGES
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    with tempfile.TemporaryDirectory(prefix="gorr-stdlib-") as work:
        for go in TOOLCHAINS:
            if not os.access(go, os.X_OK):
                print("SKIP %s: not installed" % go)
                continue
            version = subprocess.run([go, "version"], capture_output=True, text=True,
                                     env=dict(os.environ, GOTOOLCHAIN="local")).stdout.split()[2]
            for pkg in pkgs:
                status, detail = one(go, version, pkg, work, timeout, records)
                counts[status] += 1
                print("%s stdlib/%s[%s]: %s" % (status, pkg, version, detail), flush=True)
    print("%d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
