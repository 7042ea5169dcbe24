// threads: goroutines on several OS threads; prints what the runtime
// believes about CPUs and the order in which workers finished.
package main

import (
	"fmt"
	"runtime"
	"sync"
)

//go:noinline
func work(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 7
	}
	return s
}

func main() {
	fmt.Println("gomaxprocs", runtime.GOMAXPROCS(0), "numcpu", runtime.NumCPU())
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			work(200000 * (g%3 + 1))
			mu.Lock()
			order = append(order, g)
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	fmt.Println("finished", len(order), "workers")
}
