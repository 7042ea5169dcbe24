// compute: one long computation with no syscall and no decision point.
// Its loop's laps are counted (harness/core/count.h): under `gorr run` its
// timeslices end at a counted lap, the same on every run of a seed.  With
// "fib", a recursion with no loop at all: no lap is counted, the slice
// ends by gorr's real-time interrupt at a place that depends on the
// machine's speed (slice.clock, and a warning; tests/e2e/test_run.py).
package main

import (
	"fmt"
	"os"
)

func fib(n int) uint64 {
	if n < 2 {
		return uint64(n)
	}
	return fib(n-1) + fib(n-2)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "fib" {
		fmt.Println(fib(41) != 0)
		return
	}
	x := uint64(1)
	for i := 0; i < 400000000; i++ {
		x = x*6364136223846793005 + uint64(i)
	}
	fmt.Println(x != 0)
}
