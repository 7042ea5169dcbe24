#!/usr/bin/env bash
# The main job on a bundled example, from a fresh machine: install the
# dependencies, build gorr, build examples/nondet, record it, show the
# nondeterministic inputs gorr captured (clock reads, random bytes, pid),
# replay it, and hunt the failing seed of a flaky test (examples/flaky).
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
echo
echo "== replaying it: the same output again, from the trace"
./gorr replay -q build/examples/nondet.gorr
echo
echo "== hunting a flaky test (examples/flaky: natively 0 failures in 200 runs)"
(cd examples/flaky && GO111MODULE=off GOFLAGS=-buildvcs=false "$GO" test -c -o ../../build/examples/flaky.test .)
./gorr hunt -n 200 --save build/examples/hunt -- build/examples/flaky.test -test.run '^TestTransfers$' || true
