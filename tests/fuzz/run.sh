#!/usr/bin/env bash
# Run each libFuzzer target given (build-fuzz/fuzz/fuzz_NAME) for
# $FUZZ_SECONDS seconds on its corpus (build-fuzz/corpus/NAME, kept
# between runs), seeded from real traces, fault rules and Go binaries.
# Prints executions, speed and coverage per target; exits non-zero when
# a target crashed, leaked or hung (its input is left in build-fuzz/,
# to become a regression test).  `make fuzz FUZZ_SECONDS=N` runs it.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GORR=${GORR:-$ROOT/gorr}
SECS=${FUZZ_SECONDS:-60}
PYTHON=${PYTHON:-/usr/bin/python3}	# with msgpack (python3-msgpack)
OUT=$ROOT/build-fuzz
fail=0

seed_trace() {	# traces of Go programs (a dynamically linked C program's
		# trace holds the libraries it maps: megabytes)
	local d=$1 p t
	for p in "$ROOT"/tests/build/go*/example-nondet "$ROOT"/tests/build/go*/threads; do
		[ -x "$p" ] || continue
		t="$d/$(basename "$(dirname "$p")")-$(basename "$p").gorr"
		"$GORR" run -q --seed 1 --chaos 2 -o "$t" -- "$p" >/dev/null 2>&1
		# dump hashes the traced binary when it is still there (2 MB:
		# 25 inputs a second under ASan): the seeds name a path that
		# is not, so that the reader and printer are what is fuzzed.
		"$PYTHON" - "$t" <<'PY' || rm -f "$t"
import sys, msgpack
path = sys.argv[1]
objs = list(msgpack.Unpacker(open(path, "rb"), raw=False, strict_map_key=False))
objs[0]["exe"] = "/nonexistent/" + objs[0]["exe"].rsplit("/", 1)[-1]
open(path, "wb").write(b"".join(msgpack.packb(o, use_bin_type=True) for o in objs))
PY
	done
	return 0
}

seed_plan() {
	local d=$1 i=0
	while IFS= read -r rule; do
		i=$((i + 1))
		printf '%s' "$rule" >"$d/rule-$i"
	done <<'RULES'
write:delay=10ms
read,write,recvfrom:delay=1.5s,when=3
openat:error=ENOENT,path=/etc/*.conf
write:error=EPIPE,fd=1,when=2+3
connect:error=ECONNREFUSED,prob=0.25
read:error=5,when=1..4
netpoll:drop
netpoll:delay=50ms,when=2
gc@main.handle
gc@event:1234
gc:every=2s
write:delay=30ms:fd=2:when=5
1h2m3.5s
RULES
	printf '# a plan\nwrite:delay=5ms   # slow\n  netpoll:drop,when=2\n' >"$d/plan-file"
}

seed_gobin() {	# small Go binaries (stripped and not), and a C one
	local d=$1
	cp /bin/true "$d/c-true"
	for p in "$ROOT"/tests/build/go*/example-nondet-stripped "$ROOT"/tests/build/go*/example-nondet; do
		[ -f "$p" ] && cp "$p" "$d/$(basename "$(dirname "$p")")-$(basename "$p")"
	done
	return 0
}

for bin in "$@"; do
	bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
	name=$(basename "$bin")
	name=${name#fuzz_}
	corpus=$OUT/corpus/$name
	seeds=$OUT/seeds/$name
	mkdir -p "$corpus" "$seeds"
	[ -n "$(ls -A "$seeds")" ] || "seed_$name" "$seeds"
	log=$OUT/fuzz-$name.log
	(cd "$OUT" && "$bin" -max_total_time="$SECS" -close_fd_mask=3 -timeout=20 \
		-rss_limit_mb=4096 -print_final_stats=1 "$corpus" "$seeds" "$ROOT/tests/fuzz/regress/$name") >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		fail=1
		echo "fuzz $name: FAILED (exit $rc) after ${execs:-?} executions; see $log:"
		grep -m3 -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | sed 's/^/    /'
	else
		echo "fuzz $name: ${execs:-?} executions in ${SECS}s (${speed:-?}/s), ${cov:-cov: ?}, no crash, leak or hang"
	fi
done
exit $fail
