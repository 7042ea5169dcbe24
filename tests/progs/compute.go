// compute: one long computation with no syscall and no decision point, so
// that under `gorr run` its timeslice ends by gorr's real-time interrupt
// at a place that depends on the machine's speed (slice.clock, and a
// warning; tests/e2e/test_run.py).
package main

import "fmt"

func main() {
	x := uint64(1)
	for i := 0; i < 400000000; i++ {
		x = x*6364136223846793005 + uint64(i)
	}
	fmt.Println(x != 0)
}
