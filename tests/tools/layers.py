#!/usr/bin/env python3
"""Check that calls and includes among gorr's C files go one way only.

The layers are the ```layers block of docs/ARCHITECTURE.md ("Layers"):
one line per layer, the highest first, "name: module module ...", where a
module is a path without its extension (harness/sched/sched stands for
sched.c and sched.h).  Every C file of harness/, recorder/, replayer/ and
inject/ must belong to one listed module.

Two graphs over modules are checked:
  - includes: module A includes a header of module B (#include "...");
  - calls: A's object file has an undefined symbol that B's defines
    (nm over the objects in BUILD_DIR, default build/).
An edge may go to the same layer or a lower one, never a higher one, and
neither graph may have a cycle.  Calls through a hooks struct (function
pointers, such as struct engine_ops or struct sched_hooks) are not edges:
that is how a lower layer tells a higher one something.

Usage: layers.py [--root DIR] [BUILD_DIR]
  exit 0 when clean, 1 with one line per violation.  BUILD_DIR (default
  build) is relative to the root, the repository by default.  `make check`
  runs it (tests/e2e/test_layers.py).
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if len(sys.argv) > 2 and sys.argv[1] == "--root":
    ROOT = os.path.abspath(sys.argv[2])
    del sys.argv[1:3]
DIRS = ("harness", "recorder", "replayer", "inject")


def read_layers():
    """[(layer, [module...])], the lowest layer first."""
    text = open(os.path.join(ROOT, "docs", "ARCHITECTURE.md")).read()
    m = re.search(r"^```layers\n(.*?)^```", text, re.S | re.M)
    if not m:
        sys.exit("layers.py: docs/ARCHITECTURE.md has no ```layers block")
    layers = []
    for line in m.group(1).splitlines():
        if not line.strip():
            continue
        name, _, mods = line.partition(":")
        layers.append((name.strip(), mods.split()))
    layers.reverse()
    return layers


def sources():
    files = []
    for d in DIRS:
        for ext in ("c", "h"):
            files += glob.glob(os.path.join(ROOT, d, "**", "*." + ext), recursive=True)
    return sorted(os.path.relpath(f, ROOT) for f in files)


def module_of(path):
    return os.path.splitext(path)[0]


def include_edges(files, modules):
    edges = {}
    for f in files:
        a = module_of(f)
        for line in open(os.path.join(ROOT, f), errors="replace"):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            # Includes name their path from the top ("harness/base/util.h");
            # a bare name is a file beside the includer.
            path = inc if "/" in inc else os.path.join(os.path.dirname(f), inc)
            b = module_of(os.path.normpath(path))
            if b != a and b in modules:
                edges.setdefault((a, b), set()).add(inc)
    return edges


def call_edges(build, modules):
    defs, undefs = {}, {}
    for mod in modules:
        obj = os.path.join(build, mod + ".o")
        if not os.path.exists(obj):
            continue
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBR":
                defs[p[2]] = mod
            elif len(p) == 2 and p[0] == "U":
                undefs.setdefault(mod, set()).add(p[1])
    edges = {}
    for a, syms in undefs.items():
        for sym in syms:
            b = defs.get(sym)
            if b and b != a:
                edges.setdefault((a, b), set()).add(sym)
    return edges, len(defs)


def cycle(edges):
    """A list of modules forming a cycle, or None."""
    succ = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(succ.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if not state.get(m):
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(succ):
        if not state.get(n):
            c = visit(n)
            if c:
                return c
    return None


def main():
    build = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build")
    layers = read_layers()
    rank = {}
    for i, (name, mods) in enumerate(layers):
        for mod in mods:
            if mod in rank:
                sys.exit(f"layers.py: '{mod}' is listed twice")
            rank[mod] = (i, name)
    files = sources()
    bad = []
    for f in files:
        if module_of(f) not in rank:
            bad.append(f"'{f}' is in no layer of docs/ARCHITECTURE.md")
    for mod in rank:
        if not any(module_of(f) == mod for f in files):
            bad.append(f"layer '{rank[mod][1]}' lists '{mod}', which has no file")
    inc = include_edges(files, rank)
    calls, ndefs = call_edges(build, rank)
    if ndefs == 0:
        sys.exit(f"layers.py: no objects in '{build}' (build first)")
    for kind, edges in (("includes", inc), ("calls", calls)):
        for (a, b), what in sorted(edges.items()):
            if rank[b][0] > rank[a][0]:
                bad.append(f"{a} ({rank[a][1]}) {kind} {b} ({rank[b][1]}), a higher layer: "
                           + " ".join(sorted(what)))
        c = cycle(edges)
        if c:
            bad.append(f"a cycle of {kind}: " + " -> ".join(c))
    for line in bad:
        print(line)
    nmods = len(rank)
    print(f"{nmods} modules in {len(layers)} layers; {len(inc)} include edges, "
          f"{len(calls)} call edges; {len(bad)} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
