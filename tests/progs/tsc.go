// tsc: makes the runtime read the time-stamp counter (cputicks) through
// the block profiler, so that rdtsc/rdtscp emulation is exercised.
package main

import (
	"fmt"
	"runtime"
	"sync"
)

func main() {
	runtime.SetBlockProfileRate(1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	c := make(chan int)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				mu.Lock()
				mu.Unlock()
				c <- j
			}
		}()
	}
	go func() { wg.Wait(); close(c) }()
	n := 0
	for range c {
		n++
	}
	fmt.Println("received", n)
}
