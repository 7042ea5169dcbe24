#!/usr/bin/env bash
# The main job on a bundled example, from a fresh machine: install the
# dependencies, build gorr, build examples/nondet, record it, and show the
# nondeterministic inputs gorr captured (clock reads, random bytes, pid).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup
make -j2 >/dev/null
GO=$(command -v go || echo /usr/local/go/bin/go)
mkdir -p build/examples
GO111MODULE=off "$GO" build -o build/examples/nondet examples/nondet/main.go
echo "== running examples/nondet under gorr record"
./gorr record -o build/examples/nondet.gorr -- build/examples/nondet
echo
echo "== what the trace holds (gorr dump, the lines that made the run differ)"
./gorr dump build/examples/nondet.gorr | grep -E '^#|CLOCK_REALTIME|getrandom|getpid\(|rdtsc|exec ' | head -20
echo "..."
./gorr dump build/examples/nondet.gorr | tail -1
