// busyloop: goroutines that spin without syscalls, on a sync.Mutex and
// on a select with default, until a counter reaches its end: the kind of
// loop whose timeslices, under gorr, used to end after 200 ms of wall time
// at a point that depended on the machine.  With decision points they end
// at a counted point: the same seed, the same trace, on any machine.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
)

func main() {
	laps := 20000 // the count, or the first argument (the suite uses 3000)
	if len(os.Args) > 1 {
		laps, _ = strconv.Atoi(os.Args[1])
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	n := 0
	stop := make(chan struct{})
	spins := 0
	wg.Add(3)
	for i := 0; i < 2; i++ {
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if n >= laps {
					mu.Unlock()
					return
				}
				n++
				mu.Unlock()
			}
		}()
	}
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				spins++
			}
		}
	}()
	for {
		mu.Lock()
		done := n >= laps
		mu.Unlock()
		if done {
			break
		}
	}
	close(stop)
	wg.Wait()
	fmt.Println("n", n, "spun", spins > 0)
}
