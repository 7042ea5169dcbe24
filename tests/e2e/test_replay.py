"""`gorr replay`: a recorded run, re-executed, is the same run."""
import os
import re
import shutil
import subprocess

from run import load_trace, per_toolchain, write_trace

# Programs whose output differs natively from run to run, or that exercise
# threads, sockets, signals, timeslices and crashes.
PROGRAMS = [
    ("example-nondet", []),
    ("threads", []),
    ("finishorder", []),
    ("example-httploop", ["10"]),
    ("spin", []),
    ("example-panic", []),
    ("exitcode", ["3"]),
    ("tsc", []),
    ("reexec", []),
    ("child", []),      # runs the dynamically linked /usr/bin/echo
    ("child", ["1", "reldir"]),  # as bin/echo in /usr: replay makes the child's chdir
    ("sigpair", []),    # SIGURG, then a child's SIGCHLD, pending at one unblock
    ("killchild", []),  # kills its child with SIGKILL (replay sends the kill)
    ("execnew", []),    # runs a program it wrote: the trace carries the file
]


def record(ctx, prog, args, trace, cmd="record", stripped=False):
    return ctx.gorr_cmd(cmd, "-q", "-o", trace, "--", ctx.prog(prog, stripped=stripped), *args)


def replay(ctx, trace, *opts, **kw):
    return ctx.gorr_cmd("replay", *opts, trace, **kw)


@per_toolchain
def test_record_then_replay_is_identical(ctx):
    for prog, args in PROGRAMS:
        trace = ctx.path(prog + "".join("-" + a for a in args) + ".gorr")
        rec = record(ctx, prog, args, trace)
        assert rec.returncode != 125, (prog, rec)
        for i in range(10 if prog in ("example-nondet", "finishorder", "spin") else 3):
            rep = replay(ctx, trace, timeout=60)
            assert (rep.stdout, rep.stderr, rep.returncode) == (rec.stdout, rec.stderr, rec.returncode), \
                (prog, i, rec, rep)


@per_toolchain
def test_replay_of_run_traces(ctx):
    for prog, args in PROGRAMS[:5]:
        trace = ctx.path(prog + "-run.gorr")
        run = record(ctx, prog, args, trace, cmd="run")
        rep = replay(ctx, trace, timeout=60)
        assert (rep.stdout, rep.stderr, rep.returncode) == (run.stdout, run.stderr, run.returncode), \
            (prog, run, rep)


def edit_slice(trace, out, key, offsets):
    """Write trace to out with the bytes at offsets of the first slice's
    key (not a loop's) flipped (xor 0x55)."""
    objs = load_trace(trace)
    for o in objs[1:]:
        if o.get("e") == "slice" and key in o and "loop" not in o:
            b = bytearray(o[key])
            for i in offsets:
                b[i] ^= 0x55
            o[key] = bytes(b)
            break
    else:
        raise AssertionError(f"no slice with {key} in {trace}")
    write_trace(out, objs)


@per_toolchain
def test_tight_loops_replay_and_always_end(ctx):
    """Issue 12 item 1: a timeslice that ends inside a loop of 10^8 laps
    (tests/progs/tightloop.go) was looked for with a breakpoint per lap
    and never found.  Now every mode replays to the same output, the
    value the loop reached included: count and store are skipped ahead
    in (harness/sched/loops.c); nested, sha256 and json end their slices
    where their loop is left or their function returns (sched.c
    settle_loop, leave_frame); array (a store whose address changes every
    lap), crc (crc32's assembly, AVX-512 instructions capstone 4 cannot
    decode) and sort are found by a conditional breakpoint the tracee
    checks itself (harness/core/condbp.c): before it, array's replay ran
    into --stuck-after 60s, crc's took 17-30 s.  A replay that cannot
    find its next event ends within --stuck-after.

    Since record counts loop laps (harness/core/count.c), these slices
    end at a counted lap, which replay reaches in one stop; the ways
    above are what `--no-count` recordings (and code no lap counts) still
    take, and both are tested here."""
    env = dict(os.environ, GOMAXPROCS="4")
    with_laps = 0
    for mode in ("count", "store", "nested", "sha256", "json", "array", "crc", "sort"):
        for counted in (True, False):
            trace = ctx.path(mode + ("" if counted else "-nc") + ".gorr")
            rec = ctx.gorr_cmd("record", "-q", "-o", trace, *([] if counted else ["--no-count"]),
                               "--", ctx.prog("tightloop"), mode, env=env)
            assert rec.returncode == 0, (mode, rec)
            ends = [x for x in ctx.gorr_cmd("dump", trace).stdout.splitlines()
                    if "timeslice ends at" in x]
            laps = sum("at counted lap" in x for x in ends)
            # Counted slices only when counting, and then every slice
            # that ends in the program's code ends at a counted lap, on a
            # loaded machine too (sched_tick's COUNT_GRACE_NS).  A run
            # may have no slice at all: the worker is preempted by the
            # runtime's sysmon when it gets to run (GOMAXPROCS(1)), or
            # json's main goroutine finishes first.
            assert laps == 0 if not counted else laps == len(ends), (mode, counted, ends)
            with_laps += counted and laps > 0
            for _ in range(2 if mode in ("count", "store") else 1):
                rep = replay(ctx, trace, "--stuck-after", "20s", timeout=90)
                assert (rep.stdout, rep.returncode) == (rec.stdout, 0), (mode, counted, rec, rep)
    assert with_laps >= 5, with_laps
    # A slice the replay cannot reach ends in time: nested's slice end
    # (its inner loop's exit, passed once per outer lap, for ever: the
    # flag is only set once the slice has ended) with every general
    # register but rsp and rip edited (user_regs_struct words 0-14).
    edited = ctx.path("edited.gorr")
    edit_slice(ctx.path("nested-nc.gorr"), edited, "regs", range(15 * 8))
    rep = replay(ctx, edited, "--stuck-after", "2s", timeout=60)
    assert rep.returncode == 125 and "without reaching it" in rep.stderr, rep
    # The SSE registers count too: the same slice with only its "sse"
    # edited (xmm0's first byte) is passed with matching general
    # registers, and not taken.
    edit_slice(ctx.path("nested-nc.gorr"), edited, "sse", range(1))
    # (the INT3 then the conditional breakpoint's trampoline compare
    # them: harness/core/condbp.c)
    rep = replay(ctx, edited, "--stuck-after", "8s", timeout=90)
    assert rep.returncode == 125 and "without reaching it" in rep.stderr, rep
    # A counted slice whose registers were edited is reached at its lap
    # and reported there, at once.
    edit_slice(ctx.path("nested.gorr"), edited, "regs", range(15 * 8))
    rep = replay(ctx, edited, "--stuck-after", "20s", timeout=60)
    assert rep.returncode == 125 and "(its counted lap) with other registers" in rep.stderr, rep
    bad = replay(ctx, trace, "--stuck-after", "soon")
    assert bad.returncode == 2 and "'--stuck-after' needs a duration" in bad.stderr, bad


@per_toolchain
def test_loop_shapes_not_written_for_gorr_replay(ctx):
    """tests/progs/churn.go's loops, written unlike tightloop.go: in
    matrix, Go 1.26 puts the inner loop's head where a jump lands and
    the next instruction is another jump's target, far from any padding,
    so no conditional breakpoint fits there, and 2 of 6 replays ran into
    --stuck-after (a breakpoint hit 40,000 times a second, 10^8 laps).
    The recorder now ends such a slice a few instructions on, at the
    first place one fits (sched.c, FIT_STEPS): 10 of 10."""
    for mode in ("matrix", "matrix", "matrix", "matrix", "fnv", "upper", "linked"):
        trace = ctx.path(mode + ".gorr")
        rec = ctx.gorr_cmd("record", "-q", "-o", trace, "--", ctx.prog("churn"), mode)
        assert rec.returncode == 0, (mode, rec)
        rep = replay(ctx, trace, "--stuck-after", "20s", timeout=90)
        assert (rep.stdout, rep.returncode) == (rec.stdout, 0), (mode, rec, rep)


def test_replay_ten_of_ten_stripped(ctx):
    trace = ctx.path("s.gorr")
    rec = record(ctx, "example-nondet", [], trace, stripped=True)
    for _ in range(10):
        rep = replay(ctx, trace)
        assert (rep.stdout, rep.returncode) == (rec.stdout, rec.returncode)


def edit_result(trace, out, nr):
    """Change the result of the first syscall nr that returned > 0."""
    objs = load_trace(trace)
    for o in objs[1:]:
        if o.get("e") == "syscall" and o.get("nr") == nr and o.get("r", 0) > 0:
            o["r"] -= 1
            index = o["i"]
            break
    else:
        raise AssertionError("no such call")
    write_trace(out, objs)
    return index


def test_edited_trace_diverges(ctx):
    trace = ctx.path("t.gorr")
    record(ctx, "example-nondet", [], trace)
    # getrandom returns one byte less than the program asked for: the
    # program retries, which the trace does not have.
    bad = ctx.path("bad.gorr")
    index = edit_result(trace, bad, 318)
    r = replay(ctx, bad, timeout=60)
    assert r.returncode == 125, r
    m = re.search(r"gorr: replay diverged at event (\d+):", r.stderr)
    assert m and int(m.group(1)) > index, r.stderr
    assert "the trace has next:" in r.stderr and "but thread" in r.stderr and "did:" in r.stderr
    assert "its stack:" in r.stderr and "crypto/rand" in r.stderr, r.stderr


@per_toolchain
def test_divergence_in_a_clock_read_has_the_go_stack(ctx):
    """A read of gorr's vDSO that the trace does not have next stops at
    the image's own SYSCALL; its stack goes on through the Go function
    that called the image (runtime.nanotime1 or walltime, on the g0
    stack) to the program's code: before, it was one frame, "?()
    pc=0x7fff000003b7"."""
    trace = ctx.path("c.gorr")
    record(ctx, "clocks", ["600"], trace)
    objs = load_trace(trace)
    reals = [n for n, o in enumerate(objs) if n and o.get("e") == "clk" and o.get("k") == 0]
    assert len(reals) > 100, len(reals)
    objs[reals[len(reals) // 2]]["k"] = 1   # CLOCK_REALTIME recorded as CLOCK_MONOTONIC
    bad = ctx.path("c-bad.gorr")
    write_trace(bad, objs)
    r = replay(ctx, bad, timeout=60)
    assert r.returncode == 125 and "clock_gettime(CLOCK_REALTIME" in r.stderr, r.stderr
    stack = r.stderr.split("its stack:", 1)[1]
    assert "time.Now(...)" in stack and "main.main.func1(...)" in stack, r.stderr
    assert "pc=0x7fff" not in stack, r.stderr


def test_other_binary_is_refused(ctx):
    trace = ctx.path("t.gorr")
    prog = ctx.path("prog")
    shutil.copy(ctx.prog("exitcode"), prog)
    ctx.gorr_cmd("record", "-q", "-o", trace, "--", prog, check_exit=0)
    shutil.copy(ctx.prog("threads"), prog)
    r = replay(ctx, trace)
    assert 1 <= r.returncode <= 125 and "another build" in r.stderr, r
    assert len(r.stderr.strip().splitlines()) == 1


def test_damaged_traces(ctx):
    trace = ctx.path("t.gorr")
    record(ctx, "example-nondet", [], trace)
    data = open(trace, "rb").read()
    cut = ctx.path("cut.gorr")
    with open(cut, "wb") as f:
        f.write(data[: len(data) // 2])
    r = replay(ctx, cut, timeout=60)
    assert r.returncode == 125 and "replayed that far" in r.stderr, r
    empty = ctx.path("empty.gorr")
    open(empty, "wb").close()
    r = replay(ctx, empty)
    assert r.returncode == 1 and "not a gorr trace" in r.stderr
    assert replay(ctx, ctx.path("missing.gorr")).returncode == 1


def test_damage_at_the_end_never_hangs(ctx):
    """Issue 12: a byte damaged among the last records (thread exits, the
    exit_group, the end) made replay wait for ever for exits that the
    held exit_group would have caused.  Every one of the last 300 bytes,
    flipped: the replay ends (the same output and status, or status 125
    with the damage reported), and leaves no tracee behind."""
    trace = ctx.path("t.gorr")
    record(ctx, "example-nondet", [], trace)
    data = open(trace, "rb").read()
    flipped = ctx.path("f.gorr")
    codes = {}
    for off in range(max(0, len(data) - 300), len(data)):
        b = bytearray(data)
        b[off] ^= 0xFF
        open(flipped, "wb").write(b)
        try:
            r = replay(ctx, flipped, timeout=20)
        except AssertionError as e:
            # Some recordings have a damage offset that hangs replay
            # (2 suite runs in 4 on 2026-12-02, the second one twice on
            # the same flip), while 2,400 flips of eight other
            # recordings did not: open (docs/ARCHITECTURE.md, known
            # limits).  The same damage hanging again is a failure.
            if "timed out" not in str(e):
                raise
            try:
                r = replay(ctx, flipped, timeout=20)
            except AssertionError:
                # Keep what hangs for whoever looks next.
                keep = os.path.join(ctx.root, "tests", "build", "damage-hang.gorr")
                shutil.copy(trace, keep)
                raise AssertionError(f"flip at {off - len(data)} from the end hangs replay twice; "
                                     f"the undamaged recording is kept as {keep}")
        assert r.returncode in (0, 125), (off - len(data), r)
        if r.returncode == 125:
            assert r.stderr.count("\n") >= 1 and ("replayed that far" in r.stderr or "diverged" in r.stderr
                                                  or "damaged" in r.stderr
                                                  or "did not end where the recording did" in r.stderr), \
                (off - len(data), r.stderr)
        codes[r.returncode] = codes.get(r.returncode, 0) + 1
    assert codes.get(125, 0) > 50, codes
    left = subprocess.run(["pgrep", "-f", ctx.prog("example-nondet")], capture_output=True, text=True)
    assert left.stdout == "", "tracees left: " + left.stdout


@per_toolchain
def test_break_at_function(ctx):
    for stripped in (False, True):
        trace = ctx.path("b.gorr")
        record(ctx, "threads", [], trace, stripped=stripped)
        r = replay(ctx, trace, "--break", "main.work", timeout=60)
        assert r.returncode == 0, r
        assert re.search(r"gorr: breakpoint main\.work at event \d+, thread \d+ \(goroutine \d+\)", r.stderr), r.stderr
        assert "pc 0x" in r.stderr and "in main.work at " in r.stderr
        lines = r.stderr.splitlines()
        stack = [l.strip() for l in lines if l.startswith("    ") and not l.startswith("        ")]
        assert stack[0] == "main.work(...)" and "main.main.func1(...)" in stack[1:3], r.stderr


@per_toolchain
def test_break_at_inlined_function_and_line(ctx):
    """A function the compiler inlined everywhere (no compiled copy) is
    found through the inline trees: each inlined copy is a breakpoint,
    and the stack shows the inlined calls as Go's tracebacks do."""
    src = os.path.join(ctx.root, "tests", "progs", "inline.go")
    line = [i for i, l in enumerate(open(src), 1) if "// leaf's line" in l][0]
    for stripped in (False, True):
        trace = ctx.path("inl.gorr")
        record(ctx, "inline", ["5"], trace, stripped=stripped)
        # leaf runs 5 times inlined in mid, inlined in work's loop, and once in work itself.
        # A generic function by its name without type arguments, or as Go prints it.
        for spec, hits in (("main.leaf", 6), ("main.mid", 5), (f"inline.go:{line}", 6),
                           ("main.atLeast", 1), ("main.atLeast[...]", 1)):
            r = replay(ctx, trace, "--break", spec, "--continue", timeout=60)
            assert r.returncode == 0 and r.stderr.count(f"gorr: breakpoint {spec} ") == hits, (spec, r.stderr)
        r = replay(ctx, trace, "--break", "main.leaf", timeout=60)
        assert r.returncode == 0 and "in main.leaf (inlined into main.work) at " in r.stderr, r.stderr
        stack = [l.strip() for l in r.stderr.splitlines() if l.startswith("    ") and not l.startswith("        ")]
        assert stack[:4] == ["main.leaf(...)", "main.mid(...)", "main.work(...)", "main.main(...)"], r.stderr
        # The inlined frames have no offset of their own; the compiled one has.
        assert re.search(r"inline\.go:%d\n" % line, r.stderr) and re.search(r"inline\.go:\d+ \+0x", r.stderr), r.stderr


@per_toolchain
def test_break_at_line_and_event_and_continue(ctx):
    trace = ctx.path("b.gorr")
    record(ctx, "threads", [], trace)
    src = os.path.join(ctx.root, "tests", "progs", "threads.go")
    line = [i for i, l in enumerate(open(src), 1) if "s += i * i % 7" in l][0]
    r = replay(ctx, trace, "--break", f"threads.go:{line}", timeout=60)
    assert r.returncode == 0 and f"threads.go:{line}" in r.stderr and "main.work" in r.stderr, r.stderr
    n = len(load_trace(trace)) - 1
    mid = n // 2
    r = replay(ctx, trace, "--break", f"event:{mid}", timeout=60)
    assert r.returncode == 0 and f"at event {mid}," in r.stderr, r.stderr
    # Past the end (a short recording has fewer than 50 events): said.
    r = replay(ctx, trace, "--break", f"event:{n + 5}", timeout=60)
    assert r.returncode == 0 and f"breakpoint event:{n + 5} was never reached" in r.stderr, r.stderr
    # At a thread's exit too (replay consumes exits where it did not
    # look for event breakpoints: event:50 passed silently when the
    # recording had an exit there, 1 run in 3 on Go 1.22).
    exits = [o["i"] for o in load_trace(trace)[1:] if o.get("e") == "exit"]
    assert exits, "no exit events"
    r = replay(ctx, trace, "--break", f"event:{exits[0]}", timeout=60)
    assert r.returncode == 0 and f"at event {exits[0]}," in r.stderr, (exits, r.stderr)
    rec = ctx.run([ctx.gorr, "replay", trace])
    r = replay(ctx, trace, "--break", "main.work", "--continue", timeout=60)
    assert r.stdout == rec.stdout and r.stderr.count("gorr: breakpoint main.work") == 8, r.stderr
    assert ctx.gorr_cmd("replay", "--break", "main.noSuchFunc", trace).returncode == 125


def test_replay_usage(ctx):
    assert ctx.gorr_cmd("replay").returncode == 2
    h = ctx.gorr_cmd("replay", "--help", check_exit=0).stdout
    assert "usage: gorr replay" in h and "--break" in h


def build_cgo(ctx, src, name):
    """A cgo build of src (dynamically linked, threads from pthread_create)."""
    import subprocess
    if not shutil.which("gcc"):
        from run import Skip
        raise Skip("no C compiler: cannot build a cgo binary")
    prog = ctx.path(name)
    env = dict(os.environ, CGO_ENABLED="1", GO111MODULE="off", GOROOT=ctx.tc.root,
               GOCACHE=os.path.join(ctx.root, "tests", "build", "gocache"))
    subprocess.run([ctx.tc.go, "build", "-o", prog, src], check=True, env=env, capture_output=True)
    assert b"ld-linux" in open(prog, "rb").read(), "not dynamically linked"
    return prog


@per_toolchain
def test_cgo_threads_that_exit_replay(ctx):
    """A thread that exits (a goroutine ends locked to it) is waited for
    until the kernel has cleared its tid: glibc gives its stack to the
    next pthread_create only then, and replay, which always waited, gave
    the next thread another stack than the recording had (5 of 6 traces
    of tests/cgo/threadexit.go diverged at a clock read on that stack;
    the standard library's os TestProgWideChdir too).  Same-seed runs
    give one trace."""
    prog = build_cgo(ctx, os.path.join(ctx.root, "tests", "cgo", "threadexit.go"), "threadexit-cgo")
    for i in range(6):
        trace = ctx.path(f"threadexit-{i}.gorr")
        rec = ctx.gorr_cmd("record", "-q", "-o", trace, "--", prog)
        assert rec.stdout == "done\n", rec
        rep = replay(ctx, trace, timeout=60)
        assert (rep.stdout, rep.returncode) == (rec.stdout, rec.returncode), (i, rep)
    dumps = []
    for i in range(3):
        trace = ctx.path(f"threadexit-run-{i}.gorr")
        ctx.gorr_cmd("run", "-q", "--seed", "3", "-o", trace, "--", prog)
        dumps.append(ctx.gorr_cmd("dump", trace).stdout.split("\n", 3)[3])
    assert dumps[0] == dumps[1] == dumps[2]


@per_toolchain
def test_clock_reads_after_a_signal_count_from_its_delivery(ctx):
    """The standard library's strconv tests (a test binary gorr's tests
    did not write): sysmon's SIGURG preempts a goroutine in IsPrint's
    search, the handler and the scheduler read the clock through gorr's
    vDSO, and the next timeslice ends at a counted lap.  Replay follows a
    signal's delivery without pick (arm_next); the reads after it went
    into the thread's ring only at its first stop, and the lap count
    began there, too late: on Go 1.19, 0 of 4 recordings replayed without
    replay.c queue_fast ("the trace has next: timeslice ends at ...
    strconv.bsearch32 ... at counted lap"), 4 of 4 with it."""
    import subprocess
    src = os.path.join(ctx.tc.root, "src", "strconv")
    prog = ctx.path("strconv.test")
    env = dict(os.environ, GOROOT=ctx.tc.root, GOTOOLCHAIN="local", GOFLAGS="-buildvcs=false",
               GOCACHE=os.path.join(ctx.root, "tests", "build", "gocache-" + ctx.tc.version))
    subprocess.run([ctx.tc.go, "test", "-c", "-o", prog, "strconv"], check=True, env=env,
                   capture_output=True, timeout=600)
    for i in range(3):
        trace = ctx.path(f"strconv{i}.gorr")
        # In the package's folder: its tests read testdata/.
        rec = subprocess.run([ctx.gorr, "record", "-q", "-o", trace, "--", prog, "-test.short"],
                             cwd=src, capture_output=True, text=True, timeout=120)
        assert rec.returncode == 0 and rec.stdout.strip().endswith("PASS"), rec
        rep = subprocess.run([ctx.gorr, "replay", "-q", "--stuck-after", "20s", trace], cwd=src,
                             capture_output=True, text=True, timeout=120)
        assert (rep.returncode, rep.stdout) == (0, rec.stdout), (i, rep.stderr[-1500:])


@per_toolchain
def test_child_signal_taken_in_gorrs_vdso_replays(ctx):
    """tests/progs/killchild: the kernel gives the killed child's SIGCHLD
    to whichever thread runs, sometimes sysmon as its nanosleep returns,
    before its next clock read.  Replay of such a recording (since
    record counts laps, replay has the counting trampolines, and took a
    signal inside gorr's vDSO for one to step out of) stepped the thread
    into the image's stopping read again and again, or diverged at that
    read: 3 of 8 Go 1.19 recordings.  The signal is taken where it comes
    (engine.c leave_vdso_for, record only).  And the kernel's SIGCHLD,
    merged with the one replay sends (a pending standard signal is not
    queued twice), stands for it (replay.c sigchld_merged; without it 0
    of 16 replayed)."""
    prog = ctx.prog("killchild")
    for i in range(8):
        trace = ctx.path(f"kc{i}.gorr")
        rec = ctx.gorr_cmd("record", "-q", "-o", trace, "--", prog)
        rep = replay(ctx, trace, "--stuck-after", "10s", timeout=60)
        assert (rep.stdout, rep.returncode) == (rec.stdout, rec.returncode), (i, rep)


@per_toolchain
def test_externally_linked_binary_has_its_functions_where_they_are(ctx):
    """An externally linked Go binary (cgo with the system linker: the
    standard library's os tests) starts .text with C code (crt1's _start,
    frame_dummy), and Go's text 0x100 further.  Go 1.26's pclntab no
    longer says where its text starts: gorr took .text's address, every
    function lay 0x100 early, `--break main.main` never stopped and the
    loop-counting JMPs went into the middle of instructions (os's tests
    died of SIGTRAP under run and record).  moduledata.text (stripped
    binaries too) or the runtime.text symbol say where."""
    import subprocess
    if not shutil.which("gcc"):
        from run import Skip
        raise Skip("no C compiler: cannot link externally")
    src = os.path.join(ctx.root, "tests", "progs", "heaploop.go")
    env = dict(os.environ, CGO_ENABLED="1", GO111MODULE="off", GOROOT=ctx.tc.root,
               GOCACHE=os.path.join(ctx.root, "tests", "build", "gocache"))
    for flags in ("-linkmode=external", "-linkmode=external -s -w"):
        prog = ctx.path("ext" + ("-s" if "-s" in flags else ""))
        subprocess.run([ctx.tc.go, "build", "-ldflags=" + flags, "-o", prog, src], check=True,
                       env=env, capture_output=True)
        trace = ctx.path("ext.gorr")
        r = ctx.gorr_cmd("run", "-q", "--seed", "1", "-o", trace, "--", prog)
        assert r.returncode == 0 and r.stdout.startswith("true "), (flags, r)
        assert "at counted lap" in ctx.gorr_cmd("dump", trace).stdout, flags
        rep = replay(ctx, trace, "--break", "main.main", "--continue", timeout=60)
        assert rep.returncode == 0 and rep.stdout == r.stdout, (flags, rep)
        assert re.search(r"pc 0x[0-9a-f]+ in main\.main at \S*heaploop\.go:27", rep.stderr), \
            (flags, rep.stderr)


@per_toolchain
def test_cgo_binary_replays(ctx):
    """A Go program built with cgo is dynamically linked: ld.so maps libc
    from files, which replay maps again from the recorded bytes."""
    prog = build_cgo(ctx, os.path.join(ctx.root, "examples", "lostwakeup", "main.go"), "lw-cgo")
    trace = ctx.path("cgo.gorr")
    rec = ctx.gorr_cmd("record", "-q", "-o", trace, "--", prog, check_exit=0)
    mmaps = [e for e in load_trace(trace)[1:] if e["e"] == "syscall" and e["nr"] == 9]
    assert mmaps and all(e.get("out") for e in mmaps if e["r"] > 0 and not e["a"][3] & 0x20)
    for _ in range(3):
        rep = replay(ctx, trace, timeout=60)
        assert (rep.stdout, rep.returncode) == (rec.stdout, rec.returncode), rep


# x86-64 numbers (arch/x86/entry/syscalls/syscall_64.tbl)
NR = {"clock_gettime": 228, "gettimeofday": 96, "time": 201}


def clock_reads(events):
    """The clock read events of a trace: (through gorr's vDSO: clk events,
    with nr set to the call's; stopping: syscall events)."""
    clock = set(NR.values())
    fast = [dict(e, nr=e.get("nr", NR["clock_gettime"])) for e in events if e.get("e") == "clk"]
    slow = [e for e in events if e.get("e") == "syscall" and e.get("nr") in clock]
    return fast, slow


@per_toolchain
def test_clock_reads_without_stops(ctx):
    """`gorr record` maps its own vDSO: Go's clock reads make no stop,
    are logged in the process's page and written at the next stop, and
    replay answers them from the trace: it prints the values the
    recording read (a live clock never would), 3 times of 3, also when a
    loop that reads the clock has its timeslices end by interrupt.
    --no-fast-clock keeps every read a stop."""
    trace = ctx.path("clocks.gorr")
    rec = record(ctx, "clocks", ["3000", "300"], trace)
    assert rec.returncode == 0, rec
    events = load_trace(trace)
    assert events[0].get("fast_clock") is True
    assert [e.get("vdso_fast") for e in events if e.get("e") == "exec"] == [True]
    fast, slow = clock_reads(events)
    # 12,000 reads by the goroutines and the spin's; a full ring (1364)
    # stops once.
    assert len(fast) > 12000 and len(slow) < len(fast) / 50, (len(fast), len(slow))
    # Written short: the clock and the time (docs/trace-format.md).
    assert all(set(e) <= {"e", "i", "tid", "nr", "k", "s", "n", "z", "r"} for e in fast), fast[:3]
    per_event = os.path.getsize(trace) / (len(events) - 1)
    assert per_event < 50, per_event
    slices = [e for e in events if e.get("e") == "slice" and e.get("regs")]
    for i in range(3):
        rep = replay(ctx, trace, timeout=120)
        assert (rep.stdout, rep.returncode) == (rec.stdout, rec.returncode), (i, slices[:1], rep)
    # Each read is shown as the call it stands for.
    dump = ctx.gorr_cmd("dump", trace, check_exit=0).stdout
    assert re.search(r"clock_gettime\(CLOCK_(MONOTONIC|REALTIME), \{tv_sec=\d+, tv_nsec=\d+\}\) = 0 \(vdso\)",
                     dump), dump[:2000]
    assert "(vdso gorr's," in dump
    # Without: every read stops, and the trace says so.
    trace2 = ctx.path("clocks-slow.gorr")
    rec2 = ctx.gorr_cmd("record", "-q", "--no-fast-clock", "-o", trace2, "--",
                        ctx.prog("clocks"), "300", check_exit=0)
    events2 = load_trace(trace2)
    assert "fast_clock" not in events2[0]
    fast2, slow2 = clock_reads(events2)
    assert not fast2 and len(slow2) > 1200, (len(fast2), len(slow2))
    assert replay(ctx, trace2, timeout=60).stdout == rec2.stdout
    # A fault rule on clock_gettime needs every read to stop.
    trace3 = ctx.path("clocks-rule.gorr")
    ctx.gorr_cmd("record", "-q", "--inject", "clock_gettime:delay=1us:when=5", "-o", trace3, "--",
                 ctx.prog("clocks"), "10", check_exit=0)
    assert not clock_reads(load_trace(trace3))[0]


def test_c_program_clock_reads_without_stops(ctx):
    """glibc finds gorr's vDSO (clock_gettime, gettimeofday, time, in a
    forked child too) and the replay prints what the recording read."""
    if not shutil.which("gcc"):
        from run import Skip
        raise Skip("no C compiler: cannot build tests/cgo/cclock.c")
    prog = ctx.path("cclock")
    subprocess.run(["gcc", "-O2", "-o", prog, os.path.join(ctx.root, "tests", "cgo", "cclock.c")],
                   check=True)
    trace = ctx.path("cclock.gorr")
    rec = ctx.gorr_cmd("record", "-q", "-o", trace, "--", prog, check_exit=0)
    assert rec.stdout.startswith("child ") and "parent " in rec.stdout, rec
    fast, slow = clock_reads(load_trace(trace))
    assert {e["nr"] for e in fast} == {NR["clock_gettime"], NR["gettimeofday"], NR["time"]}, \
        {e["nr"] for e in fast}
    # 3,002 reads; a full ring (1364: harness/vdso/page.h VDSO_RING)
    # makes one stop.
    assert len(fast) + len(slow) >= 3002 and len(slow) <= 3002 // 1364 + 1, (len(fast), len(slow))
    assert len({e["tid"] for e in fast}) == 2, {e["tid"] for e in fast}
    for i in range(3):
        rep = replay(ctx, trace, timeout=60)
        assert (rep.stdout, rep.returncode) == (rec.stdout, 0), (i, rep)


@per_toolchain
def test_interrupt_at_a_return_breakpoint_keeps_the_program_whole(ctx):
    """The standard library's math/big TestNatSqr (nat.sqr and
    karatsubaSqr recurse, so the return address gorr runs a timeslice on
    to is passed at many depths): an interrupt that came between that
    breakpoint's INT3 and its SIGTRAP left the thread one byte into
    `mov 0x68(%rsp),%rbx`, a 32-bit load, and the test crashed with a
    pointer cut to 32 bits under `gorr record` (Go 1.26: 6 of 6 runs with
    -test.count 20).  The recordings pass.  (Their replays: see
    docs/ARCHITECTURE.md, "Timeslices in tight loops": 1 to 3 of 4
    diverge at a slice at that return address; not asserted here.)"""
    binary = ctx.path("big.test")
    env = dict(os.environ, GOTOOLCHAIN="local", GOROOT=ctx.tc.root, GOFLAGS="-buildvcs=false",
               GOCACHE=os.path.join(ctx.root, "tests", "build", "gocache"))
    subprocess.run([ctx.tc.go, "test", "-c", "-o", binary, "math/big"], check=True, env=env,
                   capture_output=True)
    src = os.path.join(ctx.tc.root, "src", "math", "big")
    args = [binary, "-test.short", "-test.run", "^TestNatSqr$", "-test.count", "20"]
    for i in range(3):
        trace = ctx.path(f"natsqr-{i}.gorr")
        p = subprocess.run([ctx.gorr, "record", "-q", "-o", trace, "--"] + args,
                           cwd=src, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0 and p.stdout.strip().endswith("PASS"), (i, p.stderr[-1500:])


def children(pid):
    """The processes pid started (/proc/PID/task/TID/children, Linux 3.5)."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


@per_toolchain
def test_calls_without_stops(ctx):
    """`gorr record` sends Go's Syscall6 through its syscall buffer: the
    reads and writes on the program's non-blocking sockets and the
    netpoller's zero-timeout epoll waits (Go 1.21+) make no stop, are
    written as short `b` events with their bytes, and replay
    gives the program the same bytes: the same digest, 3 times of 3.
    --no-fast-sys keeps every call a stop."""
    prog = ctx.prog("netio")
    trace = ctx.path("netio.gorr")
    rec = ctx.gorr_cmd("record", "-q", "-o", trace, "--", prog, "600")
    assert " round trips, " in rec.stdout, rec
    events = load_trace(trace)
    assert events[0].get("fast_sys") is True
    assert [e.get("sys_fast") for e in events if e.get("e") == "exec"] == [True]
    # Written short, as `b` events (docs/trace-format.md).
    fast = [dict(e, nr=e["n"]) for e in events if e.get("e") == "b"]
    assert all(set(e) <= {"e", "i", "tid", "n", "a", "r", "o", "pc", "nr"} for e in fast), fast[:3]
    io_nr = {0, 1}      # read, write
    slow_io = [e for e in events if e.get("e") == "syscall" and e["nr"] in io_nr]
    # 600 round trips: the client's write and read (or more), the server's
    # read and write (Go 1.19: splice, which stops), the epoll waits (Go 1.21+).
    assert len(fast) > 1700 and len(slow_io) < len(fast) / 20, (len(fast), len(slow_io))
    assert any(e["nr"] == 0 and e.get("o") for e in fast), fast[:3]
    for i in range(3):
        rep = replay(ctx, trace, timeout=120)
        assert (rep.stdout, rep.returncode) == (rec.stdout, 0), (i, rep)
    dump = ctx.gorr_cmd("dump", trace, check_exit=0).stdout
    assert re.search(r"\] read\(\d+, \".*\) = \d+ \(buffered\)", dump), dump[:3000]
    # More recordings: no timeslice ends inside gorr's code (a big read's
    # copy once took more steps out than allowed: Go 1.19, 1 of 2), and
    # each replays.
    for i in range(3):
        t = ctx.path(f"netio-{i}.gorr")
        r = ctx.gorr_cmd("record", "-q", "-o", t, "--", prog, "600")
        inside = [e for e in load_trace(t) if e.get("e") == "slice" and
                  0x7fff00000000 <= e.get("pc", 0) < 0x7fff00100000]
        assert not inside, (i, inside[:1])
        assert replay(ctx, t, timeout=120).stdout == r.stdout, i
    # Without: every call stops.
    trace2 = ctx.path("netio-slow.gorr")
    rec2 = ctx.gorr_cmd("record", "-q", "--no-fast-sys", "-o", trace2, "--", prog, "50")
    assert rec2.stderr == "ready\n", rec2
    events2 = load_trace(trace2)
    assert "fast_sys" not in events2[0]
    assert not [e for e in events2 if e.get("e") == "b"]
    assert replay(ctx, trace2, timeout=60).stdout == rec2.stdout


@per_toolchain
def test_signals_inside_the_syscall_buffer(ctx):
    """SIGUSR1s sent from outside during a recording land inside gorr's
    code too (at a buffered call's return, in the vDSO): the program takes
    them where it comes out of it, with the flags it had (a step through
    the buffer's code once left TF set, and the program died of SIGTRAP;
    a second signal during the steps recursed until gorr crashed).  The
    program finishes with the right digest, 3 times of 3, and the trace
    has the signals.  (The replay of signals sent from outside while the program runs
    its own code is not exact: docs/ARCHITECTURE.md, "Calls without
    stops".)"""
    import signal as sig
    import time
    prog = ctx.prog("netio")
    want = ctx.gorr_cmd("record", "-q", "-o", ctx.path("netio-quiet.gorr"), "--", prog,
                        "600").stdout.split(",")[:2]
    for i in range(3):
        trace = ctx.path(f"netio-sig-{i}.gorr")
        p = subprocess.Popen([ctx.gorr, "record", "-q", "-o", trace, "--", prog, "600"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sent = 0
        assert p.stderr.readline() == "ready\n"   # SIGUSR1 is caught from now on
        while p.poll() is None:
            for c in children(p.pid):
                try:
                    os.kill(c, sig.SIGUSR1)
                    sent += 1
                except OSError:
                    pass
            time.sleep(0.002)
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.split(",")[:2] == want, (i, p.returncode, out, err[-2000:])
        assert sent > 10, (sent, out)
        events = load_trace(trace)
        assert [e for e in events if e.get("e") == "signal" and e["sig"] == sig.SIGUSR1], i
