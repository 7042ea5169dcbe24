// pingpong: two goroutines pass a token back and forth N times, each
// reading the clock at every turn (time.Now: walltime + nanotime).
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := 20000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	ping, pong := make(chan time.Time), make(chan time.Time)
	go func() {
		for t := range ping {
			_ = t
			pong <- time.Now()
		}
		close(pong)
	}()
	var last time.Time
	for i := 0; i < n; i++ {
		ping <- time.Now()
		last = <-pong
	}
	close(ping)
	fmt.Println("rounds", n, "last after start:", !last.IsZero())
}
