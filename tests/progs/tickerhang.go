// tickerhang: main waits for a result nobody sends while a 1 ns Ticker
// stays armed: Go 1.19 does not call it a deadlock (a timer is pending),
// and under gorr run the ticker keeps virtual time crawling.
package main

import (
	"fmt"
	"time"
)

func main() {
	t := time.NewTicker(time.Nanosecond) // armed, never read, never stopped
	_ = t
	done := make(chan bool)
	go func() {
		// the bug: the result is never sent
	}()
	fmt.Println("waiting")
	<-done
}
