// spin: with GOMAXPROCS=1, one goroutine spins on an atomic flag before
// the goroutine that sets it exists; main can only go on (and start the
// setter) once the runtime preempts the spinner (sysmon's async
// preemption, a SIGURG).
package main

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

func main() {
	runtime.GOMAXPROCS(1)
	var flag int32
	done := make(chan bool)
	go func() {
		for atomic.LoadInt32(&flag) == 0 {
		}
		done <- true
	}()
	time.Sleep(time.Millisecond) // the spinner takes the only P
	go func() { atomic.StoreInt32(&flag, 1) }()
	<-done
	fmt.Println("spin finished")
}
