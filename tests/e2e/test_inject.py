"""Fault injection (docs/fault-plan.md): syscall errors and delays, netpoll
drops and delays, forced GCs, and the examples of issue 4."""
import time

from run import load_trace, per_toolchain


def gorr_run(ctx, prog, *opts, trace=None, **kw):
    args = ["run", "-q", "--seed", "5"] + (["-o", trace] if trace else [])
    return ctx.gorr_cmd(*args, *opts, "--", ctx.prog(prog), **kw)


@per_toolchain
def test_error_is_injected_and_replayed(ctx):
    t = ctx.path("e.gorr")
    r = gorr_run(ctx, "example-nondet", "--inject", "getrandom:error=EIO", trace=t)
    # (Go 1.26's crypto/rand then fails; Go 1.19's falls back to
    # /dev/urandom: the program's reaction is its own.)
    events = load_trace(t)[1:]
    faults = [e for e in events if e["e"] == "fault"]
    assert faults and faults[0]["rule"] == "getrandom:error=EIO" and faults[0]["action"] == "error"
    inj = [e for e in events if e["e"] == "syscall" and e.get("injected")]
    assert inj and inj[0]["nr"] == 318 and inj[0]["r"] == -5, inj[:1]
    d = ctx.gorr_cmd("dump", t, check_exit=0).stdout
    assert "= -1 EIO (Input/output error) (INJECTED)" in d and "--- fault error at getrandom" in d
    rep = ctx.gorr_cmd("replay", t, timeout=60)
    assert (rep.stdout, rep.stderr, rep.returncode) == (r.stdout, r.stderr, r.returncode), (r, rep)


def test_when_and_path_filters(ctx):
    t = ctx.path("w.gorr")
    gorr_run(ctx, "upper", "--inject", "read:error=EINTR,fd=0,when=1", trace=t, input="a\n")
    reads = [e for e in load_trace(t)[1:] if e["e"] == "syscall" and e["nr"] == 0 and e["a"][0] == 0]
    assert reads[0].get("injected") and reads[0]["r"] == -4, reads
    assert not reads[1].get("injected"), reads
    # path= selects by file name: only the runtime's open of the huge page
    # size fails, every other openat runs.
    t = ctx.path("p.gorr")
    gorr_run(ctx, "example-nondet", "--inject",
             "openat:error=ENOENT,path=/sys/kernel/mm/*", trace=t, check_exit=0)
    opens = [e for e in load_trace(t)[1:] if e["e"] == "syscall" and e["nr"] == 257]
    hit = [e for e in opens if e.get("injected")]
    assert len(hit) == 1 and b"/sys/kernel/mm/" in dict(hit[0]["in"])[1], hit
    assert hit[0]["r"] == -2 and len(opens) > 1
    assert all(not e.get("injected") for e in opens if b"/sys/kernel/mm/" not in dict(e["in"])[1])


def test_delay_is_virtual_under_run_and_real_under_record(ctx):
    start = time.monotonic()
    r = gorr_run(ctx, "example-nondet", "--inject", "write:delay=30s,when=1", check_exit=0)
    assert time.monotonic() - start < 10, "a virtual delay took wall time"
    assert "time: 2000-01-01T00:00:3" in r.stdout, r.stdout   # 30 s of virtual time passed
    start = time.monotonic()
    ctx.gorr_cmd("record", "-q", "-o", ctx.path("d.gorr"), "--inject", "write:delay=1s,when=1",
                 "--", ctx.prog("exitcode"), check_exit=0)
    assert time.monotonic() - start >= 1.0


def test_same_seed_same_faults(ctx):
    outs = set()
    for _ in range(3):
        t = ctx.path("p.gorr")
        gorr_run(ctx, "example-httploop", "--inject", "write:delay=5ms,prob=0.3", trace=t, check_exit=0)
        outs.add(ctx.gorr_cmd("dump", t, check_exit=0).stdout)
    assert len(outs) == 1


def test_bad_plans_exit_2_before_running(ctx):
    marker = ctx.path("ran")
    for rule in ("reed:delay=1s", "write:delay=soon", "write", "write:error=ENOPE",
                 "netpoll:delay", "gc@event:x"):
        r = ctx.gorr_cmd("run", "--inject", rule, "--", "/bin/touch", marker)
        assert r.returncode == 2, (rule, r)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and rule.split(":")[0] in lines[0], (rule, r.stderr)
    plan = ctx.path("p.plan")
    with open(plan, "w") as f:
        f.write("# comment\nwrite:delay=1ms\n\nread:nope\n")
    r = ctx.gorr_cmd("record", "--inject-file", plan, "--", "/bin/touch", marker)
    assert r.returncode == 2 and f"{plan}:4: bad fault rule 'read:nope'" in r.stderr, r
    import os
    assert not os.path.exists(marker), "the program ran"


@per_toolchain
def test_dropped_netpoll_event_hangs_the_client(ctx):
    prog = ctx.prog("example-lostwakeup")
    r = ctx.gorr_cmd("run", "-q", "--seed", "1", "--", prog, check_exit=0)
    assert r.stdout == 'got "pong\\n" <nil>\n', r
    t = ctx.path("lw.gorr")
    start = time.monotonic()
    r = ctx.gorr_cmd("run", "-q", "--seed", "1", "--inject", "netpoll:drop,when=3", "-o", t,
                     "--", prog, timeout=60)
    assert time.monotonic() - start < 10
    assert r.returncode == 124 and "gorr: hang: all" in r.stderr, r
    assert "runtime.netpoll" in r.stderr, r.stderr
    d = ctx.gorr_cmd("dump", t, check_exit=0).stdout
    assert "--- fault drop at epoll_pwait: netpoll:drop,when=3 (INJECTED) ---" in d
    assert "+++ end: the program hung, status 124 +++" in d
    rep = ctx.gorr_cmd("replay", "-q", t, timeout=60)
    assert rep.returncode == 124 and rep.stdout == r.stdout, rep


def test_gc_rules_need_a_go_function(ctx):
    marker = ctx.path("ran")
    r = ctx.gorr_cmd("run", "--inject", "gc@main.nosuch", "--", ctx.prog("sleeper"))
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no function 'main.nosuch'" in lines[0], r.stderr
    r = ctx.gorr_cmd("run", "--inject", "gc:every=1s", "--", "/bin/touch", marker)
    assert r.returncode == 2 and "is not a Go program" in r.stderr, r
    import os
    assert not os.path.exists(marker), "the program ran"


def _gc_faults(t):
    return [e for e in load_trace(t)[1:] if e["e"] == "fault" and e["action"] == "gc"]


@per_toolchain
def test_forced_gc_runs_the_finalizer_that_closes_the_fd(ctx):
    prog = ctx.prog("example-finalizer")
    rule = "gc@main.appendChunk:when=1"
    r = gorr_run(ctx, "example-finalizer", check_exit=0)
    assert r.stdout == "reading feed\nread 21 bytes\n", r
    outs = set()
    for seed in ("1", "1", "1", "2", "3"):
        t = ctx.path("f.gorr")
        r = ctx.gorr_cmd("run", "-q", "--seed", seed, "--inject", rule, "-o", t, "--", prog)
        assert r.returncode == 1 and "read failed after 7 bytes: bad file descriptor" in r.stdout, r
        faults = _gc_faults(t)
        assert len(faults) == 1 and faults[0]["rule"] == rule, faults
        if seed == "1":
            outs.add((r.stdout, ctx.gorr_cmd("dump", t, check_exit=0).stdout))
    assert len(outs) == 1, "the same seed and plan gave different runs"
    d = next(iter(outs))[1]
    assert "--- fault gc at " in d and "in main.appendChunk" in d and "(INJECTED) ---" in d, d
    # The fix (runtime.KeepAlive) holds under the same forced GC.
    r = ctx.gorr_cmd("run", "-q", "--seed", "1", "--inject", rule, "--", prog, "-fixed", check_exit=0)
    assert r.stdout.endswith("read 21 bytes\n"), r
    # Replay without the plan: the GC starts at the recorded point.
    rep = ctx.gorr_cmd("replay", "-q", t, timeout=60)
    assert (rep.returncode, rep.stdout) == (1, r_out(ctx, t)), rep
    # Stripped: the function is found in the pclntab, runtime.gcphase by
    # disassembly.
    r = ctx.gorr_cmd("run", "-q", "--seed", "1", "--inject", rule, "--",
                     ctx.prog("example-finalizer", stripped=True))
    assert r.returncode == 1 and "bad file descriptor" in r.stdout, r


@per_toolchain
def test_forced_gc_at_an_inlined_function_keeps_the_program_whole(ctx):
    """gc@FUNC of a function the compiler inlined everywhere forces the GC
    at its inlined copies (the inline trees), in the middle of the
    caller, where any register may be live: the n-th call of leaf, for
    each n, leaves the program's sum intact (the gorr before refused the
    rule; with registers cleared for the call, as at a function's entry,
    the sum in RDX came back zero: 17 instead of 62)."""
    for stripped in (False, True):
        prog = ctx.prog("inline", stripped=stripped)
        for n in range(1, 7):
            rule = f"gc@main.leaf:when={n}"
            t = ctx.path("inl-gc.gorr")
            r = ctx.gorr_cmd("run", "-q", "--inject", rule, "-o", t, "--", prog, "5")
            assert r.stdout == "work done\n62\n", (rule, r)
            faults = _gc_faults(t)
            assert len(faults) == 1 and faults[0]["rule"] == rule, faults
            d = ctx.gorr_cmd("dump", t, check_exit=0).stdout
            assert "in main.leaf (inlined into main.work)" in d, d[-1500:]
        rep = ctx.gorr_cmd("replay", "-q", t, timeout=60)
        assert (rep.returncode, rep.stdout) == (0, r.stdout), rep


@per_toolchain
def test_forced_gc_between_a_compare_and_its_jump(ctx):
    """A GC forced at main.pick's first accepted point, after its compare
    and before the jump on it, leaves the flags the compare set: the
    epilogue of debugCallV2 (ADDQ $size, SP, then RET) sets them after
    gorr restored them: with the GC at the 5th call, pick(4, 3) answered 3
    (33333567, on Go 1.19 and 1.26 alike)."""
    prog = ctx.prog("inline")
    want = "33334567\n"
    for n in range(1, 9):
        rule = f"gc@main.pick:when={n}"
        t = ctx.path("pick-gc.gorr")
        r = ctx.gorr_cmd("run", "-q", "--inject", rule, "-o", t, "--", prog, "pick")
        assert r.stdout == want and len(_gc_faults(t)) == 1, (rule, r)
    rep = ctx.gorr_cmd("replay", "-q", t, timeout=60)
    assert (rep.returncode, rep.stdout) == (0, want), rep


def r_out(ctx, t):
    """The stdout recorded in trace t (its tty writes to fd 1)."""
    out = b""
    for e in load_trace(t)[1:]:
        if e["e"] == "syscall" and e.get("tty") == 1 and e.get("r", 0) > 0:
            out += dict(e["in"])[1][:e["r"]]
    return out.decode()


@per_toolchain
def test_gc_at_event_and_every_replay(ctx):
    for rule, want in (("gc@event:40", 1), ("gc:every=2ms", None)):
        t = ctx.path("g.gorr")
        r = ctx.gorr_cmd("run", "-q", "--seed", "4", "--inject", rule, "-o", t, "--",
                         ctx.prog("example-timerleak"), "-for", "2m", "-every", "1s", "-report", "1m",
                         check_exit=0)
        n = len(_gc_faults(t))
        assert (n == want) if want else n >= 2, (rule, n)
        rep = ctx.gorr_cmd("replay", "-q", t, timeout=60)
        assert (rep.returncode, rep.stdout) == (0, r.stdout), (rule, rep)


@per_toolchain
def test_write_delay_deadlocks_the_collector(ctx):
    prog = ctx.prog("example-collector")
    r = ctx.gorr_cmd("run", "-q", "--seed", "1", "--", prog, check_exit=0)
    assert r.stdout == "collected 3 results, sum 14\n", r
    rule = "write:delay=2s,fd=2,when=2"
    results = set()
    for seed in ("1", "1", "1", "7"):
        t = ctx.path("c.gorr")
        start = time.monotonic()
        r = ctx.gorr_cmd("run", "-q", "--seed", seed, "--inject", rule, "-o", t, "--", prog)
        assert time.monotonic() - start < 10, "a virtual delay took wall time"
        assert r.returncode == 2, r
        assert "fatal error: all goroutines are asleep - deadlock!" in r.stderr, r.stderr
        assert r.stdout == "collector: timed out\n", r
        if seed == "1":
            results.add((r.stdout, r.stderr))
    assert len(results) == 1
    rep = ctx.gorr_cmd("replay", "-q", t, timeout=60)
    assert rep.returncode == 2 and rep.stdout == r.stdout, rep


@per_toolchain
def test_timer_leak_grows_under_virtual_time(ctx):
    prog = ctx.prog("example-timerleak")
    outs = set()
    for _ in range(3):
        start = time.monotonic()
        r = ctx.gorr_cmd("run", "-q", "--seed", "2", "--", prog, check_exit=0, timeout=120)
        wall = time.monotonic() - start
        outs.add(r.stdout)
    assert len(outs) == 1, "the same seed gave different counts"
    counts = [int(l.split("goroutines=")[1]) for l in r.stdout.splitlines()]
    assert len(counts) == 6 and r.stdout.startswith("t=10m0s "), r.stdout   # an hour, simulated
    assert all(b > a for a, b in zip(counts, counts[1:])) and counts[-1] >= 300, counts
    assert wall < 30, f"an hour of virtual time took {wall:.1f}s"
    r = ctx.gorr_cmd("run", "-q", "--seed", "2", "--", prog, "-fixed", check_exit=0, timeout=120)
    counts = [int(l.split("goroutines=")[1]) for l in r.stdout.splitlines()]
    assert len(counts) == 6 and max(counts) <= 3, r.stdout


@per_toolchain
def test_netpoll_delay_holds_and_delivers(ctx):
    prog = ctx.prog("example-lostwakeup")
    t = ctx.path("nd.gorr")
    r = ctx.gorr_cmd("run", "-q", "--seed", "1", "--inject", "netpoll:delay=5s,when=3", "-o", t,
                     "--", prog, check_exit=0, timeout=60)
    assert r.stdout == 'got "pong\\n" <nil>\n', r
    events = load_trace(t)[1:]
    held = [i for i, e in enumerate(events) if e["e"] == "fault" and e["action"] == "delay"]
    assert len(held) == 1, held
    data = events[held[0]]["data"]
    # A later epoll wait gives the event back, marked injected.
    late = [e for e in events[held[0] + 2:] if e["e"] == "syscall" and e.get("injected")
            and e["nr"] in (232, 281) and e["r"] > 0]
    assert late, "the held event was never delivered"
    d = ctx.gorr_cmd("dump", t, check_exit=0).stdout
    assert "--- fault delay at epoll_pwait: netpoll:delay=5s,when=3 (INJECTED) ---" in d
    assert f"data={data:#x}" in d
    rep = ctx.gorr_cmd("replay", "-q", t, timeout=60)
    assert (rep.returncode, rep.stdout) == (0, r.stdout), rep
