"""gorr's pclntab reader against Go's own `go tool addr2line`."""
import os
import random
import subprocess

from run import UNIT_DIR, per_toolchain


def random_pcs(ctx, binary, n=400, seed=1):
    nm = subprocess.run([ctx.tc.go, "tool", "nm", "-size", "-sort", "address", binary],
                        capture_output=True, text=True, check=True,
                        env=dict(os.environ, GOROOT=ctx.tc.root)).stdout
    rows = [l.split() for l in nm.splitlines()]
    text = [r for r in rows if len(r) >= 4 and r[2] == "T" and int(r[1]) > 0]
    rng = random.Random(seed)
    return [int(r[0], 16) + rng.randrange(int(r[1])) for r in rng.sample(text, min(n, len(text)))]


def addr2line(ctx, binary, pcs):
    out = subprocess.run([ctx.tc.go, "tool", "addr2line", binary],
                         input="".join(f"{pc:#x}\n" for pc in pcs), capture_output=True,
                         text=True, check=True, env=dict(os.environ, GOROOT=ctx.tc.root)).stdout
    lines = out.splitlines()
    return [f"{lines[2 * i]} {lines[2 * i + 1]}" for i in range(len(pcs))]


def gorr_symbolize(binary, pcs):
    out = subprocess.run([os.path.join(UNIT_DIR, "test_gobin"), "symbolize", binary],
                         input="".join(f"{pc:x}\n" for pc in pcs), capture_output=True,
                         text=True, check=True).stdout
    return out.splitlines()


@per_toolchain
def test_symbolization_matches_addr2line(ctx):
    for name in ("example-httploop", "threads"):
        plain = ctx.prog(name)
        pcs = random_pcs(ctx, plain)
        want = addr2line(ctx, plain, pcs)
        assert sum(1 for w in want if not w.startswith("?")) > 300
        for binary in (plain, ctx.prog(name, stripped=True)):
            got = gorr_symbolize(binary, pcs)
            bad = [(hex(pc), g, w) for pc, g, w in zip(pcs, got, want) if g != w]
            assert not bad, f"{binary}: {len(bad)} of {len(pcs)} differ, e.g. {bad[:3]}"


@per_toolchain
def test_inlined_calls_match_the_runtime(ctx):
    """The inline tree (FUNCDATA_InlTree): for every byte of a function
    with calls inlined two deep, the innermost call's name and file:line
    are what Go's runtime.FuncForPC says, in plain and stripped binaries,
    and the frames it is inlined into are the callers."""
    plain = ctx.prog("inline")
    want = subprocess.run([plain, "pcs"], capture_output=True, text=True, check=True).stdout.splitlines()
    assert sum(" main.leaf " in w for w in want) > 3 and sum(" main.mid " in w for w in want) > 0, want
    pcs = [w.split()[0] for w in want]
    for binary in (plain, ctx.prog("inline", stripped=True)):
        got = subprocess.run([os.path.join(UNIT_DIR, "test_gobin"), "frames", binary],
                             input="".join(p + "\n" for p in pcs), capture_output=True,
                             text=True, check=True).stdout.splitlines()
        bad = [(w, g) for w, g in zip(want, got) if w.split()[1:3] != g.split()[1:3]]
        assert len(got) == len(want) and not bad, f"{binary}: {len(bad)} differ, e.g. {bad[:3]}"
        chains = [g.split(" < ") for g in got if " main.leaf " in g]
        assert chains and all([c.split()[0] for c in ch[1:]] in (["main.mid", "main.work"], ["main.work"])
                              for ch in chains), chains[:3]
        assert any(len(ch) == 3 for ch in chains) and any(len(ch) == 2 for ch in chains), chains
