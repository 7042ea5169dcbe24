// tickcount: a goroutine counts a 1 ms Ticker while main sleeps: every
// goroutine is blocked at most moments, but one moves: not a hang.
package main

import (
	"fmt"
	"time"
)

func main() {
	n := 0
	go func() {
		for range time.Tick(time.Millisecond) {
			n++
		}
	}()
	time.Sleep(3 * time.Second)
	fmt.Println("ticks", n > 2000)
}
