// heaploop: a goroutine spins on `for !done { n++ }` over globals, so its
// registers are the same on every lap and only memory tells the laps
// apart; main sleeps, stops it and prints how far it got.  Under `gorr
// run` the spinner's timeslices end at counted laps; a replay that found
// a slice by its registers stopped at the first lap that had them, and
// printed another n (tests/e2e/test_run.py).
package main

import (
	"fmt"
	"runtime"
	"time"
)

var (
	n    int64
	done bool
)

//go:noinline
func spin() {
	for !done {
		n++
	}
}

func main() {
	runtime.GOMAXPROCS(1)
	go spin()
	time.Sleep(time.Millisecond)
	done = true
	fmt.Println(n > 0, n)
}
