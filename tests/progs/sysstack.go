// sysstack: allocates 1 MiB slices, each one through runtime.systemstack
// ((*mheap).alloc runs on the g0 stack): a replay that stops there sees
// the thread on its system stack for goroutine 1, whose own stack goes on
// from its g.sched (tests/e2e/test_goroutines.py).
package main

import (
	"fmt"
	"os"
)

var keep [][]byte

func grow(n int) {
	for i := 0; i < n; i++ {
		keep = append(keep, make([]byte, 1<<20))
		if len(keep) > 8 {
			keep = keep[1:]
		}
	}
}

func main() {
	grow(50)
	fmt.Println("done", len(keep))
	os.Exit(0)
}
