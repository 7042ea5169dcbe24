"""tests/kernels (issue 11): small blocking bugs decided in user space, in
the style of the Go bug studies' kernels.  Before decision points were on
at every chaos level, `gorr hunt -n 100` found 2 of the 10 (the same as
native reruns); these three it did not find at all.  TestServiceStop,
which natively fails about half the time (its goroutine starts late), it
found in 1-2 seeds of 100 until goroutines could start late under chaos
(6 of 200 seeds 101-300; 15-20 since).  TestClaim's window (a test
and a set of a plain bool) holds no synchronization at all: 0 of 200
seeds before checks of plain memory were decision points (DP_CHECK),
6-8 of 200 since.  And a busy-waiting
program under chaos gives the same trace for the same seed and replays
(its timeslices end at counted decision points, not by wall time).
TestSlotFirst (natively 51-64% of 200 runs) needs its creator to run
through a loop of go statements without a switch: 0-2 of 200 seeds at
level 3 until a share of the runs took long slices (26 of 200 since)."""
import os
import re

from run import per_toolchain


def _hunt(ctx, test, n=100):
    save = ctx.path(f"hunt-{test}")
    r = ctx.gorr_cmd("hunt", "-n", str(n), "--save", save, "--", ctx.prog("kernels.test"),
                     "-test.run", f"^{test}$", timeout=600)
    return r, save


@per_toolchain
def test_hunt_finds_user_space_bugs(ctx):
    for test, n in (("TestTransfer", 100), ("TestStoreClose", 100), ("TestLookupCancel", 100),
                    ("TestServiceStop", 100), ("TestClaim", 200), ("TestSlotFirst", 100)):
        r, save = _hunt(ctx, test, n)
        assert r.returncode == 1, (test, r.stderr[-1500:])
        assert "it fails again from the saved copy" in r.stderr, (test, r.stderr[-1500:])
        seed = int(re.search(r"seed (\d+) failed", r.stderr).group(1))
        want = open(os.path.join(save, f"seed-{seed}.stdout")).read()
        rep = ctx.gorr_cmd("replay", "-q", os.path.join(save, f"seed-{seed}.gorr"), timeout=120)
        assert rep.stdout == want and rep.returncode != 0 and "diverged" not in rep.stderr, (test, rep)


@per_toolchain
def test_busy_loop_same_seed_same_trace(ctx):
    prog = ctx.prog("busyloop")
    for level, seed in (("1", 1), ("2", 2)):
        dumps, runs = [], []
        for i in range(2):
            trace = ctx.path(f"bl-{level}-{seed}-{i}.gorr")
            runs.append(ctx.gorr_cmd("run", "-q", "--seed", str(seed), "--chaos", level, "-o", trace,
                                     "--", prog, "3000", timeout=120))
            dumps.append(ctx.gorr_cmd("dump", trace).stdout)
        assert runs[0].stdout == runs[1].stdout == "n 3000 spun true\n", runs
        assert dumps[0] == dumps[1], (level, seed)
        # Counted slice ends in the program's loops, not real-time ones.
        assert len(re.findall(r"timeslice ends at 0x[0-9a-f]+ in main\.", dumps[0])) > 20, dumps[0][-2000:]
        rep = ctx.gorr_cmd("replay", trace, timeout=120)
        assert rep.returncode == 0 and rep.stdout == runs[0].stdout, rep

