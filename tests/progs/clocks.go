// Clock reads, many of them: goroutines that read time.Now in loops, with
// sleeps and computation between, and print what they read.  Under
// `gorr record` the reads go through gorr's vDSO without stops
// (docs/ARCHITECTURE.md, "Clock reads without stops"); a replay must
// print the same values, which a live clock never would.
//
//	clocks [reads per goroutine] [spin ms]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n, spin := 3000, 0
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		spin, _ = strconv.Atoi(os.Args[2])
	}
	var wg sync.WaitGroup
	sums := make([]int64, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				sums[g] += time.Now().UnixNano() % 1000003
				if i%700 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}(g)
	}
	// A loop that reads the clock until it has run spin ms: its
	// timeslices end by gorr's interrupt, near or inside a read.
	start, laps := time.Now(), 0
	for time.Since(start) < time.Duration(spin)*time.Millisecond {
		laps++
	}
	wg.Wait()
	fmt.Println(sums, laps, time.Now().UnixNano(), time.Now().Unix())
}
