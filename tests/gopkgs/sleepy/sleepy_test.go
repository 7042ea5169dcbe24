// Package sleepy: a test that sleeps, for hunt's throughput against
// `go test -count` (tests/bench/hunt_bench.py).
package sleepy

import (
	"testing"
	"time"
)

func TestSleeps(t *testing.T) {
	for i := 0; i < 10; i++ {
		time.Sleep(10 * time.Millisecond)
	}
}
