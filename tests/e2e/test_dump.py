"""`gorr dump` on good and damaged traces."""
import json
import os
import random

from run import load_trace, per_toolchain


def make_trace(ctx, name="t.gorr"):
    trace = ctx.path(name)
    ctx.gorr_cmd("record", "-q", "-o", trace, "--", ctx.prog("example-nondet"), check_exit=0)
    return trace


def one_line_error(r, *words):
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gorr: "), r
    for w in words:
        assert w in lines[0], (w, r.stderr)
    assert 1 <= r.returncode <= 125, r


@per_toolchain
def test_json_matches_msgpack(ctx):
    trace = make_trace(ctx)
    objs = load_trace(trace)
    r = ctx.gorr_cmd("dump", "--json", trace, check_exit=0)
    lines = r.stdout.splitlines()
    assert len(lines) == len(objs), (len(lines), len(objs))
    decoded = [json.loads(l) for l in lines]
    assert decoded[0]["magic"] == "gorr" and decoded[0]["argv"] == objs[0]["argv"]
    for js, mp in zip(decoded[1:], objs[1:]):
        assert js["e"] == mp["e"] and js["i"] == mp["i"] and js["tid"] == mp["tid"]
        if mp["e"] == "syscall":
            assert js["nr"] == mp["nr"] and js["a"] == mp["a"] and js.get("r") == mp.get("r")
            for (ja, jb), (ma, mb) in zip(js.get("out", []), mp.get("out", [])):
                assert ja == ma and jb == (mb.hex() if mb is not None else None)


def test_text_lines_per_event(ctx):
    trace = make_trace(ctx)
    objs = load_trace(trace)
    out = ctx.gorr_cmd("dump", trace, check_exit=0).stdout.splitlines()
    body = [l for l in out if not l.startswith("#")]
    assert len(body) == len(objs) - 1
    for line, ev in zip(body, objs[1:]):
        assert line.split()[0] == str(ev["i"]) and f"[{ev['tid']}]" in line, (line, ev)
    assert "+++ end: exited with 0, status 0 +++" in body[-1]


def test_empty_file(ctx):
    p = ctx.path("empty.gorr")
    open(p, "wb").close()
    one_line_error(ctx.gorr_cmd("dump", p), "empty")


def test_random_bytes(ctx):
    rng = random.Random(1)
    for i in range(20):
        p = ctx.path(f"rand{i}.gorr")
        with open(p, "wb") as f:
            f.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096))))
        r = ctx.gorr_cmd("dump", p, timeout=20)
        one_line_error(r)


def test_not_a_trace(ctx):
    p = ctx.path("x.gorr")
    with open(p, "wb") as f:
        f.write(b"\x81\xa3foo\xa3bar")  # a msgpack map, but not a gorr header
    one_line_error(ctx.gorr_cmd("dump", p), "not a gorr trace")
    one_line_error(ctx.gorr_cmd("dump", ctx.path("missing.gorr")), "missing.gorr")


def test_truncated_trace(ctx):
    trace = make_trace(ctx)
    objs = load_trace(trace)
    data = open(trace, "rb").read()
    cut = ctx.path("cut.gorr")
    with open(cut, "wb") as f:
        f.write(data[:-7])          # inside the end record
    r = ctx.gorr_cmd("dump", cut)
    last = objs[-2]["i"]
    one_line_error(r, "truncated after event %d" % last)
    body = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    assert len(body) == len(objs) - 2, (len(body), len(objs))
    # Every prefix of the file is either a clean cut or reported as one.
    for n in range(1, len(data), max(1, len(data) // 97)):
        with open(cut, "wb") as f:
            f.write(data[:n])
        r = ctx.gorr_cmd("dump", cut, timeout=20)
        assert r.returncode in (0, 1), (n, r)
        assert "Traceback" not in r.stderr and "AddressSanitizer" not in r.stderr


def test_corrupted_bytes(ctx):
    trace = make_trace(ctx)
    data = bytearray(open(trace, "rb").read())
    rng = random.Random(2)
    bad = ctx.path("bad.gorr")
    for _ in range(40):
        d = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            d[rng.randrange(len(d))] = rng.randrange(256)
        with open(bad, "wb") as f:
            f.write(d)
        r = ctx.gorr_cmd("dump", bad, timeout=20)
        assert r.returncode in (0, 1), r
        assert r.returncode == 0 or r.stderr.startswith("gorr: "), r


def test_usage(ctx):
    assert ctx.gorr_cmd("dump").returncode == 2
    assert ctx.gorr_cmd("dump", "--bogus", "x").returncode == 2
    assert "usage: gorr dump" in ctx.gorr_cmd("dump", "--help", check_exit=0).stdout
