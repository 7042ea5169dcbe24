// pollexit: two pollers spin on a select with default and a Lock/Unlock
// until a quit channel that nobody closes, and main exits with 0.  Unlike
// spinexit's Gosched loops they read no clock and call nothing that
// yields: under --leaks, while gorr lets the goroutines settle at
// os.Exit, their slices must still end (tests/e2e/test_goroutines.py).
package main

import (
	"fmt"
	"os"
	"sync"
)

type poller struct {
	mu    sync.Mutex
	ticks int
	quit  chan struct{}
}

func (p *poller) run() {
	for {
		select {
		case <-p.quit:
			return
		default:
			p.mu.Lock()
			p.ticks++
			p.mu.Unlock()
		}
	}
}

func main() {
	p := &poller{quit: make(chan struct{})}
	for i := 0; i < 2; i++ {
		go p.run()
	}
	p.mu.Lock()
	fmt.Println("done")
	p.mu.Unlock()
	os.Exit(0)
}
