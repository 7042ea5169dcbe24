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
