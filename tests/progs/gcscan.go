// Many goroutines parked at the same pc while the main goroutine
// allocates: the GC scans their stacks, the same unwinding again and
// again on a system stack, while timeslices end (tests/e2e/
// test_record.py: no slice ends by interrupt on a system stack, where
// replay could not tell one call from the next).
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func deep(n int, block chan struct{}) int {
	if n == 0 {
		<-block
		return 0
	}
	return deep(n-1, block) + 1
}

func main() {
	ms := 600
	if len(os.Args) > 1 {
		ms, _ = strconv.Atoi(os.Args[1])
	}
	block := make(chan struct{})
	for i := 0; i < 300; i++ {
		go deep(30, block)
	}
	var keep [][]byte
	allocs := 0
	for start := time.Now(); time.Since(start) < time.Duration(ms)*time.Millisecond; {
		keep = append(keep, make([]byte, 1<<14))
		if len(keep) > 256 {
			keep = keep[:0]
		}
		allocs++
	}
	close(block)
	fmt.Println("done", allocs > 0)
}
