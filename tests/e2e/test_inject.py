"""Fault injection (docs/fault-plan.md): syscall errors and delays."""
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
                 "netpoll:delay=1s"):
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
