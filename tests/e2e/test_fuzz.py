"""Fuzzing (issue 12): the libFuzzer targets of tests/fuzz (the trace
reader and printer, the fault-plan and duration parsers, the Go binary
reader) are built with clang, ASan and UBSan, and each runs a short while
on its seed corpus with no crash, leak or hang.  The long runs are `make
fuzz FUZZ_SECONDS=N` (figures in docs/fuzzing.md)."""
import os
import shutil
import subprocess

from run import ROOT, Skip

SECONDS = 10


def test_fuzz_targets_run_clean(ctx):
    if not shutil.which("clang"):
        raise Skip("no clang: apt-get install clang libclang-rt-14-dev")
    probe = ctx.path("probe.c")
    open(probe, "w").write("int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n")
    r = subprocess.run(["clang", "-fsanitize=fuzzer,address", probe, "-o", ctx.path("probe")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise Skip("clang has no libFuzzer runtime (apt-get install libclang-rt-14-dev)")
    b = ctx.run(["make", "-C", ROOT, "-j2", "FUZZ=1", "fuzz-bins"], timeout=900)
    assert b.returncode == 0, b.stderr[-3000:]
    bins = sorted(os.path.join(ROOT, "build-fuzz", "fuzz", f) for f in os.listdir(os.path.join(ROOT, "build-fuzz", "fuzz"))
                  if f.startswith("fuzz_") and not f.endswith(".d"))
    assert len(bins) == 3, bins
    env = dict(os.environ, FUZZ_SECONDS=str(SECONDS), GORR=ctx.gorr)
    r = ctx.run(["bash", os.path.join(ROOT, "tests", "fuzz", "run.sh")] + bins, env=env,
                timeout=SECONDS * len(bins) + 300)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    lines = r.stdout.splitlines()
    assert len(lines) == 3 and all("no crash, leak or hang" in l for l in lines), r.stdout


def test_inputs_fuzzing_found_stay_fixed(ctx):
    """Each input a fuzz target once crashed, leaked or hung on
    (tests/fuzz/regress/TARGET/): gorr's own commands on it end at once
    with a clear message.  trace/json-keys-escaped-at-each-level: a
    9.6 KB trace whose map keys are maps made `gorr dump --json` escape
    each level's key again (hundreds of MB, over 60 s)."""
    d = os.path.join(ROOT, "tests", "fuzz", "regress", "trace")
    files = [f for f in sorted(os.listdir(d)) if not f.startswith(".")]
    assert files
    for f in files:
        for opts in ([], ["--json", "-s", "4096"]):
            r = ctx.gorr_cmd("dump", *opts, os.path.join(d, f), timeout=10)
            assert r.returncode in (0, 1) and len(r.stdout) < 1 << 20, (f, opts, r.returncode, len(r.stdout))
            assert r.returncode == 0 or r.stderr.count("\n") == 1, (f, r.stderr[-500:])
        r = ctx.gorr_cmd("replay", os.path.join(d, f), timeout=10)
        assert r.returncode in (1, 125), (f, r)
