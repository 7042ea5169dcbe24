// timerleak: each request starts a goroutine that refreshes a cache entry
// on a ticker until the request is done, but nothing ever says it is done
// (the missing `defer close(done)`): goroutines and tickers pile up, one
// per request, forever. Natively the growth takes hours to see; under
// `gorr run` virtual time jumps over the sleeps, and an hour of simulated
// traffic takes about a second.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"time"
)

var refreshes int

func refresh(id int) { refreshes++ }

func handle(id int, done <-chan struct{}) {
	go func() {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				refresh(id)
			case <-done:
				return
			}
		}
	}()
}

func main() {
	total := flag.Duration("for", time.Hour, "simulated time to serve requests for")
	every := flag.Duration("every", 10*time.Second, "time between requests")
	report := flag.Duration("report", 10*time.Minute, "time between goroutine counts")
	fixed := flag.Bool("fixed", false, "close each request's done channel")
	flag.Parse()

	start := time.Now()
	next := *report
	for id := 0; time.Since(start) < *total; id++ {
		done := make(chan struct{})
		handle(id, done)
		time.Sleep(*every) // the request is served
		if *fixed {
			close(done)
		}
		if el := time.Since(start); el >= next {
			fmt.Printf("t=%v goroutines=%d\n", next, runtime.NumGoroutine())
			next += *report
		}
	}
}
