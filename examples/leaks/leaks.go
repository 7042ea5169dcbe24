// Package leaks holds three goroutine leaks of the kinds most often found
// in real Go code (Tu et al., "Understanding Real-World Concurrency Bugs
// in Go", ASPLOS 2019). Each function takes fixed, which selects the
// corrected code. The tests in leaks_test.go pass either way: a leaked
// goroutine does not fail a test, it just stays blocked until the
// process exits. `gorr run --leaks` reports it.
package leaks

import (
	"context"
	"errors"
	"sync"
)

// FirstAnswer asks a backend and gives up when ctx is done. The backend
// goroutine then sends its answer to nobody: with an unbuffered channel
// it blocks forever ("chan send").
func FirstAnswer(ctx context.Context, ask func() string, fixed bool) (string, error) {
	ch := make(chan string)
	if fixed {
		ch = make(chan string, 1) // the send never waits
	}
	go func() {
		ch <- ask()
	}()
	// A caller that already gave up gets its error: with a buffered
	// channel the answer may be there first, and select picks among
	// ready cases at random (found by gorr hunt on the fixed code).
	if err := ctx.Err(); err != nil {
		return "", err
	}
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// DoubleAll doubles items in parallel; a background goroutine closes the
// results when every worker is done. A negative item is an error, and
// that worker returns without wg.Done: the closer waits forever
// ("sync.WaitGroup.Wait"; "semacquire" before Go 1.20).
func DoubleAll(items []int, fixed bool) (sum int, errs int) {
	var wg sync.WaitGroup
	results := make(chan int, len(items))
	closed := make(chan struct{})
	wg.Add(len(items))
	for _, it := range items {
		go func(it int) {
			if fixed {
				defer wg.Done()
			}
			if it < 0 {
				results <- -1
				return // the bug: no wg.Done on the error path
			}
			results <- 2 * it
			if !fixed {
				wg.Done()
			}
		}(it)
	}
	go func() {
		wg.Wait()
		close(closed)
	}()
	for range items {
		if r := <-results; r < 0 {
			errs++
		} else {
			sum += r
		}
	}
	return sum, errs
}

// Cache is a map behind a mutex.
type Cache struct {
	mu sync.Mutex
	m  map[string]int
}

var ErrMissing = errors.New("missing")

// Get returns a key's value. On a missing key it returns early and leaves
// the mutex locked: the next Lock blocks forever ("sync.Mutex.Lock";
// "semacquire" before Go 1.20).
func (c *Cache) Get(k string, fixed bool) (int, error) {
	c.mu.Lock()
	if fixed {
		defer c.mu.Unlock()
	}
	v, ok := c.m[k]
	if !ok {
		return 0, ErrMissing // the bug: c.mu stays locked
	}
	if !fixed {
		c.mu.Unlock()
	}
	return v, nil
}

// Refresh replaces a value, in the background as a caller would.
func (c *Cache) Refresh(k string, v int) {
	go func() {
		c.mu.Lock()
		c.m[k] = v
		c.mu.Unlock()
	}()
}

// NotifyLater starts the work and hands back the channel its result will
// come on; a caller that returns without reading it (a test that does not
// wait) leaves the goroutine blocked on its send forever ("chan send"):
// but only once the work is done, after the test has returned, which a
// leak check at that moment does not see.
func NotifyLater(work func() int, fixed bool) <-chan int {
	ch := make(chan int)
	if fixed {
		ch = make(chan int, 1) // the send never waits
	}
	go func() {
		ch <- work()
	}()
	return ch
}
