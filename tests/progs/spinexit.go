// spinexit: three goroutines spin on a flag with runtime.Gosched and
// never block; main exits with 0 ("spinexit") or 1 ("spinexit fail").
// Under --leaks, gorr lets the others settle at os.Exit: these never
// do, and each of their laps is a stop, so the settling must end by a
// bound (tests/e2e/test_goroutines.py), and not happen at all for a
// non-zero exit, which fails the run without a leak check.
package main

import (
	"os"
	"runtime"
	"sync/atomic"
)

func main() {
	var flag int32
	for i := 0; i < 3; i++ {
		go func() {
			for atomic.LoadInt32(&flag) == 0 {
				runtime.Gosched()
			}
		}()
	}
	runtime.Gosched()
	os.Stdout.WriteString("done\n")
	if len(os.Args) > 1 && os.Args[1] == "fail" {
		os.Exit(1)
	}
	os.Exit(0)
}
