// reverse: a trace of about 2N events (each time.Now two clock reads the
// recorder keeps) with a function called near its start and near its end,
// for reverse_bench.py: reverse-continue from the second call back to
// the first crosses the whole trace.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

//go:noinline
func mark(i int) int { return i * 2 }

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var last time.Time
	sum := 0
	for i := 0; i < n; i++ {
		last = time.Now()
		if i == 10 || i == n-10 {
			sum += mark(i)
		}
	}
	fmt.Println(sum, last.Year() > 2000)
}
