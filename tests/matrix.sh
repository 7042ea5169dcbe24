#!/usr/bin/env bash
# Print the toolchains of `make check-matrix`, colon-separated, for
# GORR_GO_TOOLCHAINS: Debian's Go 1.19, each release given (Go's own
# toolchain modules, fetched through the module proxy by
# `GOTOOLCHAIN=goX.Y.Z go version` with the Go at /usr/local/go, which
# must be 1.21 or newer), and Go at /usr/local/go.  A release that cannot
# be fetched is left out with a line on stderr (the test runner then says
# which toolchains it has).
set -u
GO=${GO:-/usr/local/go/bin/go}
list=/usr/lib/go-1.19/bin/go
if [ -x "$GO" ]; then
	cache=$("$GO" env GOMODCACHE)
	for v in "$@"; do
		bin=$cache/golang.org/toolchain@v0.0.1-$v.linux-amd64/bin/go
		if [ ! -x "$bin" ] && ! GOTOOLCHAIN=$v "$GO" version >/dev/null 2>&1; then
			echo "matrix: cannot fetch $v through the module proxy: left out" >&2
			continue
		fi
		if [ -x "$bin" ]; then
			list=$list:$bin
		else
			echo "matrix: $v fetched, but not at $bin: left out" >&2
		fi
	done
	list=$list:$GO
else
	echo "matrix: no Go at $GO to fetch releases with: only Go 1.19" >&2
fi
echo "$list"
