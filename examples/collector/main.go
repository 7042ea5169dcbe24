// collector: gathers three results from a worker, giving up after a
// timeout. The worker checks whether the collector gave up, logs a line,
// and then sends on an unbuffered channel. If the log write is slow (a
// full pipe, a slow terminal, a stalled log shipper) the collector times
// out between the worker's check and its send: the worker sends to nobody
// and the collector waits for the worker forever. Go reports "all
// goroutines are asleep - deadlock!". Natively the write takes
// microseconds and the bug never shows.
package main

import (
	"fmt"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	log.SetFlags(0)
	log.SetOutput(os.Stderr)
	results := make(chan int) // unbuffered: a send needs a receiver
	var gaveUp int32
	var wg sync.WaitGroup

	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= 3; i++ {
			if atomic.LoadInt32(&gaveUp) != 0 {
				return
			}
			log.Printf("worker: sending result %d", i) // between the check and the send
			results <- i * i
		}
	}()

	timeout := time.After(time.Second)
	sum, got := 0, 0
collect:
	for got < 3 {
		select {
		case r := <-results:
			sum += r
			got++
		case <-timeout:
			fmt.Println("collector: timed out")
			atomic.StoreInt32(&gaveUp, 1)
			break collect
		}
	}
	wg.Wait() // waits for a worker blocked in its send
	fmt.Printf("collected %d results, sum %d\n", got, sum)
}
