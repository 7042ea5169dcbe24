// sleeper: prints its pid, then reads the clock and sleeps forever, for
// tests that kill gorr while it records.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Println("pid", os.Getpid())
	for i := 0; ; i++ {
		_ = time.Now()
		time.Sleep(5 * time.Millisecond)
	}
}
