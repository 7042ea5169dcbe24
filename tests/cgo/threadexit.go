// threadexit: goroutines that end locked to their OS thread, so that the
// thread exits (runtime/proc.go goexit0), while new threads keep being
// made.  Built with cgo (runtime/cgo), threads come from pthread_create,
// and glibc gives a new thread a dead one's stack only once the kernel
// has cleared the dead thread's tid (nptl/allocatestack.c).
package main

import (
	"fmt"
	"os"
	"runtime"
	_ "runtime/cgo"
	"sync"
	"time"
)

func main() {
	for round := 0; round < 8; round++ {
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if i%2 == 1 {
					runtime.LockOSThread()
				}
				os.Getwd()
				time.Now()
			}(i)
		}
		wg.Wait()
	}
	fmt.Println("done")
}
