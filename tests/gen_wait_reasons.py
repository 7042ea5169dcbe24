#!/usr/bin/env python3
"""Print the wait_reasons_goX_Y arrays of harness/go/goruntime_tables.h.

Usage: gen_wait_reasons.py RELEASE=GOROOT...
  e.g. go1.19=/usr/lib/go-1.19 go1.22=$(go env GOMODCACHE)/golang.org/toolchain@v0.0.1-go1.22.12.linux-amd64

For each release: runtime/runtime2.go's waitReasonStrings, in the order
of the waitReason constants (waitReasonZero first), "" where a constant
has no string.  The table of layouts is printed by
`build/tests/test_goroutines layout BINARY` (tests/unit/test_goroutines.c).
"""
import os
import re
import sys


def reasons(src):
    t = open(src).read()
    c = t[t.index("waitReasonZero"):]
    c = c[:c.index("\n)")]
    names = []
    for line in c.splitlines():
        line = line.split("//")[0].strip()
        if not line:
            continue
        names.append(line.split()[0])
    a = t[t.index("var waitReasonStrings"):]
    a = a[:a.index("\n}")]
    m = dict(re.findall(r'(waitReason\w+):\s*"([^"]*)"', a))
    return [m.get(n, "") for n in names]


def main():
    if len(sys.argv) < 2 or any("=" not in a for a in sys.argv[1:]):
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        ver, root = arg.split("=", 1)
        r = reasons(os.path.join(root, "src", "runtime", "runtime2.go"))
        print("static const char *const wait_reasons_%s[] = {" % ver.replace(".", "_"))
        line = "\t"
        for x in r:
            item = '"%s", ' % x
            if len(line) + len(item) > 90:
                print(line.rstrip())
                line = "\t"
            line += item
        print(line.rstrip())
        print("};")


if __name__ == "__main__":
    main()
