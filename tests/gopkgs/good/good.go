// Package good is correct: its test passes under any schedule (the
// go test -exec check of tests/e2e/test_hunt.py).
package good

import "sync"

// Sum adds the numbers in parallel, safely.
func Sum(xs []int) int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	total := 0
	for _, x := range xs {
		wg.Add(1)
		go func(x int) {
			defer wg.Done()
			mu.Lock()
			total += x
			mu.Unlock()
		}(x)
	}
	wg.Wait()
	return total
}
