// sleeper200: 200 steps of 20 ms each (4 s natively), printing the
// elapsed time it measured at a few steps.
package main

import (
	"fmt"
	"time"
)

func main() {
	start := time.Now()
	for i := 1; i <= 200; i++ {
		time.Sleep(20 * time.Millisecond)
		if i%50 == 0 {
			fmt.Printf("step %d elapsed>=%v\n", i, time.Since(start) >= time.Duration(i)*20*time.Millisecond)
		}
	}
}
