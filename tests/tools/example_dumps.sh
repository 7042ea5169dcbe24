#!/usr/bin/env bash
# The refactoring check of docs/ARCHITECTURE.md ("Layers"): `gorr dump` of
# `gorr run --seed 1 -o T` for every example binary that `make check` built
# (tests/build/GOVERSION/example-*), written to OUT/NAME.dump with the run's
# exit status.  Run it with the gorr before and after a change that must not
# change behaviour, then compare:
#
#   tests/tools/example_dumps.sh /tmp/gorr-old /tmp/old
#   tests/tools/example_dumps.sh ./gorr /tmp/new
#   diff -r /tmp/old /tmp/new && echo identical
set -u
gorr=$(realpath "${1:?usage: example_dumps.sh GORR OUTDIR}")
out=${2:?usage: example_dumps.sh GORR OUTDIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
n=0
for bin in "$top"/tests/build/go*/example-*; do
	[ -x "$bin" ] || continue
	name=$(basename "$(dirname "$bin")")-$(basename "$bin")
	t=$(mktemp)
	"$gorr" run -q --seed 1 -o "$t" -- "$bin" >"$out/$name.stdout" 2>"$out/$name.stderr" </dev/null
	echo "status $?" >>"$out/$name.stdout"
	"$gorr" dump "$t" >"$out/$name.dump" 2>&1
	rm -f "$t"
	n=$((n + 1))
done
echo "$n example runs dumped into $out"
