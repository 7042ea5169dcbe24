#!/usr/bin/env python3
"""gorr's test runner (run by `make check`).

1. Builds the Go programs of tests/progs/ and examples/ with every Go
   toolchain it finds (Go 1.26 at /usr/local/go, Debian's golang-1.19 at
   /usr/lib/go-1.19), plain and stripped (-ldflags='-s -w').
2. Runs the C unit tests (build/tests/test_*), which print one
   PASS/FAIL/SKIP line per test.
3. Runs the end-to-end tests: functions test_*(ctx) in tests/e2e/test_*.py.
   A function marked @per_toolchain runs once per toolchain.

Prints one line per test and closes with "N passed, N failed, N skipped".
Arguments are substrings: only tests whose names contain one of them run.
"""
import glob
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "tests", "build")
GORR = os.environ.get("GORR", os.path.join(ROOT, "gorr"))
UNIT_DIR = os.environ.get("UNIT_DIR", os.path.join(ROOT, "build", "tests"))
TOOLCHAIN_CANDIDATES = os.environ.get(
    "GORR_GO_TOOLCHAINS", "/usr/local/go/bin/go:/usr/lib/go-1.19/bin/go").split(":")


class Skip(Exception):
    """Raised by a test that cannot run here; the reason is printed."""


def per_toolchain(fn):
    fn.per_toolchain = True
    return fn


class Toolchain:
    def __init__(self, go):
        self.go = go
        out = subprocess.run([go, "version"], capture_output=True, text=True, check=True).stdout
        self.version = out.split()[2]          # "go1.26.8"
        self.root = os.path.dirname(os.path.dirname(go))

    def __repr__(self):
        return self.version

    def at_least(self, release):
        """Whether this toolchain is release ("go1.24") or newer."""
        def key(v):
            return tuple(int(x) for x in v[2:].split(".")[:2])
        return key(self.version) >= key(release)


def find_toolchains():
    found = []
    for go in TOOLCHAIN_CANDIDATES:
        if go and os.access(go, os.X_OK):
            try:
                found.append(Toolchain(go))
            except (subprocess.CalledProcessError, OSError):
                pass
    return found


def sources():
    """name -> Go source file, for test programs and examples."""
    progs = {}
    for f in sorted(glob.glob(os.path.join(ROOT, "tests", "progs", "*.go"))):
        progs[os.path.basename(f)[:-3]] = f
    for f in sorted(glob.glob(os.path.join(ROOT, "examples", "*", "main.go"))):
        progs["example-" + os.path.basename(os.path.dirname(f))] = f
    # Packages with tests: their `go test -c` binary, named NAME.test.
    for d in sorted(glob.glob(os.path.join(ROOT, "examples", "*"))):
        if glob.glob(os.path.join(d, "*_test.go")) and not os.path.exists(os.path.join(d, "main.go")):
            progs["example-" + os.path.basename(d) + ".test"] = d
    # tests/kernels: small blocking bugs (tests/e2e/test_kernels.py).
    progs["kernels.test"] = os.path.join(ROOT, "tests", "kernels")
    return progs


def build_all(toolchains):
    """Build every program with every toolchain; returns {(tc, name, stripped): path}."""
    built = {}
    # GOTOOLCHAIN=local: a toolchain module's go must not switch to
    # another release (make check-matrix).
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-buildvcs=false", GO111MODULE="off",
               GOTOOLCHAIN="local",
               GOCACHE=os.path.join(BUILD, "gocache"), GOPATH=os.path.join(BUILD, "gopath"))
    for tc in toolchains:
        outdir = os.path.join(BUILD, tc.version)
        os.makedirs(outdir, exist_ok=True)
        tenv = dict(env, GOROOT=tc.root)
        for name, src in sources().items():
            for stripped in (False, True):
                out = os.path.join(outdir, name + ("-stripped" if stripped else ""))
                is_pkg = os.path.isdir(src)
                mtime = max(os.path.getmtime(f) for f in glob.glob(os.path.join(src, "*.go"))) \
                    if is_pkg else os.path.getmtime(src)
                if not (os.path.exists(out) and os.path.getmtime(out) > mtime):
                    cmd = [tc.go, "test", "-c", "-o", out] if is_pkg else [tc.go, "build", "-o", out]
                    if stripped:
                        cmd.append("-ldflags=-s -w")
                    cmd.append("." if is_pkg else src)
                    r = subprocess.run(cmd, env=tenv, capture_output=True, text=True,
                                       cwd=src if is_pkg else None)
                    if r.returncode != 0:
                        print(f"cannot build {src} with {tc.version}:\n{r.stderr}", file=sys.stderr)
                        continue
                built[(tc.version, name, stripped)] = out
    return built


class Result:
    def __init__(self, returncode, stdout, stderr, elapsed):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed

    def __repr__(self):
        # The head of stderr says why (a hang report's first line), the
        # tail what came last.
        err = self.stderr if len(self.stderr) <= 1200 else \
            self.stderr[:600] + " [...] " + self.stderr[-600:]
        return f"<exit {self.returncode}, stdout {self.stdout[-400:]!r}, stderr {err!r}>"



class Ctx:
    """What a test gets: the gorr binary, the built programs, a scratch dir."""

    def __init__(self, toolchains, built):
        self.gorr = GORR
        self.toolchains = toolchains
        self.built = built
        self.tc = toolchains[0] if toolchains else None
        self.tmp = None
        self.root = ROOT

    def prog(self, name, stripped=False, tc=None):
        tc = tc or self.tc
        if tc is None:
            raise Skip("no Go toolchain found")
        key = (tc.version, name, stripped)
        if key not in self.built:
            raise AssertionError(f"program {name} was not built with {tc.version}")
        return self.built[key]

    def run(self, args, timeout=60, input=None, env=None, check_exit=None):
        """Run a command in its own process group; kill the group on timeout."""
        start = time.monotonic()
        p = subprocess.Popen(args, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env, cwd=self.tmp, start_new_session=True)
        try:
            out, err = p.communicate(input=input.encode() if isinstance(input, str) else input,
                                     timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            raise AssertionError(f"timed out after {timeout}s: {args}\nstderr: {err.decode(errors='replace')[-2000:]}")
        r = Result(p.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                   time.monotonic() - start)
        if check_exit is not None and r.returncode != check_exit:
            raise AssertionError(f"{args} exited {r.returncode}, expected {check_exit}: {r}")
        return r

    def gorr_cmd(self, *args, **kw):
        return self.run([self.gorr] + list(args), **kw)

    def path(self, name):
        return os.path.join(self.tmp, name)


def load_trace(path):
    """Decode a trace with Python's msgpack: [header, event, ...], each
    event with its number "i" (the short events, clk and b, do not carry
    it: docs/trace-format.md)."""
    import msgpack
    with open(path, "rb") as f:
        objs = list(msgpack.Unpacker(f, raw=False, strict_map_key=False))
    for n, o in enumerate(objs[1:]):
        if isinstance(o, dict):
            o.setdefault("i", n)
    return objs


def write_trace(path, objs):
    """Encode [header, event, ...] (load_trace's list, edited) to path."""
    import msgpack
    with open(path, "wb") as f:
        for o in objs:
            f.write(msgpack.packb(o, use_bin_type=True))


def run_unit(toolchains, built, selected):
    results = []
    bins = sorted(b for b in glob.glob(os.path.join(UNIT_DIR, "test_*"))
                  if "." not in os.path.basename(b) and os.access(b, os.X_OK))
    lines = []
    for (ver, name, stripped), path in sorted(built.items()):
        if name in ("threads", "example-nondet"):
            src = sources()[name]
            lines.append(f"{path} {src} {ver} {1 if stripped else 0}")
    env = dict(os.environ, GORR_GO_BINS="\n".join(lines))
    for b in bins:
        suite = "unit/" + os.path.basename(b)
        if not selected(suite):
            continue
        start = time.monotonic()
        try:
            p = subprocess.run([b], capture_output=True, text=True, env=env, timeout=300)
            out, code = p.stdout, p.returncode
            err = p.stderr
        except subprocess.TimeoutExpired:
            out, code, err = "", -1, "timed out"
        seen_fail = False
        for line in out.splitlines():
            for status in ("PASS", "FAIL", "SKIP"):
                if line.startswith(status + " "):
                    rest = line[len(status) + 1:]
                    name, _, why = rest.partition(": ")
                    results.append((status, "unit/" + name, why, time.monotonic() - start))
                    seen_fail |= status == "FAIL"
        if code != 0 and not seen_fail:
            results.append(("FAIL", suite, f"exited {code}: {err[-1000:]}", 0))
    return results


def discover_e2e():
    tests = []
    for f in sorted(glob.glob(os.path.join(ROOT, "tests", "e2e", "test_*.py"))):
        modname = "e2e_" + os.path.basename(f)[5:-3]
        spec = importlib.util.spec_from_file_location(modname, f)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
        for attr in sorted(dir(mod)):
            fn = getattr(mod, attr)
            if attr.startswith("test_") and callable(fn):
                tests.append((os.path.basename(f)[5:-3], attr[5:], fn))
    return tests


def main():
    patterns = sys.argv[1:]

    def selected(name):
        return not patterns or any(p in name for p in patterns)

    if not os.access(GORR, os.X_OK):
        print(f"gorr binary not found at {GORR} (run make)", file=sys.stderr)
        return 2
    toolchains = find_toolchains()
    if not toolchains:
        print("no Go toolchain found (looked for " + ", ".join(TOOLCHAIN_CANDIDATES) + ")",
              file=sys.stderr)
    print("toolchains: " + (", ".join(t.version for t in toolchains) or "none"))
    built = build_all(toolchains)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    # gorr's cache of runtime layouts (harness/go/goroutines.c): a fresh
    # one per suite run, so that both the DWARF and the cached path run.
    own_cache = "GORR_CACHE_DIR" not in os.environ
    if own_cache:
        os.environ["GORR_CACHE_DIR"] = tempfile.mkdtemp(prefix="gorr-cache-")

    results = []
    for r in run_unit(toolchains, built, selected):
        results.append(r)
        print_result(r)

    # GORR_MATRIX_TESTS (make check-all): tests whose names start with
    # one of these prefixes run with every toolchain; the others with the
    # oldest and the newest only (newest first, as `make check` has them).
    matrix = os.environ.get("GORR_MATRIX_TESTS", "").split()
    base = toolchains
    if matrix and len(toolchains) > 2:
        def release(tc):
            return tuple(int(x) for x in tc.version[2:].split(".")[:3] if x.isdigit())
        by_age = sorted(toolchains, key=release)
        base = [by_age[-1], by_age[0]]

    for mod, name, fn in discover_e2e():
        tcs = toolchains if not matrix or any(f"{mod}/{name}".startswith(m) for m in matrix) else base
        variants = [(tc, f"{mod}/{name}[{tc.version}]") for tc in tcs] \
            if getattr(fn, "per_toolchain", False) else [(base[0] if base else None, f"{mod}/{name}")]
        if getattr(fn, "per_toolchain", False) and not toolchains:
            variants = [(None, f"{mod}/{name}")]
        for tc, full in variants:
            if not selected(full):
                continue
            ctx = Ctx(toolchains, built)
            ctx.tc = tc
            ctx.tmp = tempfile.mkdtemp(prefix="gorr-e2e-")
            start = time.monotonic()
            try:
                if tc is None and getattr(fn, "per_toolchain", False):
                    raise Skip("no Go toolchain found")
                fn(ctx)
                r = ("PASS", full, "", time.monotonic() - start)
            except Skip as e:
                r = ("SKIP", full, str(e), time.monotonic() - start)
            except Exception as e:  # a failed assertion or a crash of the test itself
                tb = traceback.format_exc(limit=-3)
                r = ("FAIL", full, f"{e}\n{tb}", time.monotonic() - start)
            finally:
                shutil.rmtree(ctx.tmp, ignore_errors=True)
            results.append(r)
            print_result(r)

    if own_cache:
        shutil.rmtree(os.environ.pop("GORR_CACHE_DIR"), ignore_errors=True)
    passed = sum(1 for r in results if r[0] == "PASS")
    failed = sum(1 for r in results if r[0] == "FAIL")
    skipped = sum(1 for r in results if r[0] == "SKIP")
    if failed:
        print("\nfailed:")
        for r in results:
            if r[0] == "FAIL":
                print("  " + r[1])
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def print_result(r):
    status, name, why, elapsed = r
    if status == "PASS":
        print(f"PASS {name} ({elapsed:.1f}s)")
    elif status == "SKIP":
        print(f"SKIP {name}: {why}")
    else:
        print(f"FAIL {name}: " + why.rstrip().replace("\n", "\n    "))
    sys.stdout.flush()


if __name__ == "__main__":
    # The tests import this file as `run` (Skip, load_trace...): one
    # module, so that their `raise Skip(...)` is the Skip main catches
    # (a second copy's Skip was reported as a failure).
    sys.modules["run"] = sys.modules["__main__"]
    sys.exit(main())
