// nondet prints five things that differ from run to run in an ordinary
// Go program: map iteration order, a select between two ready channels,
// the time, bytes from crypto/rand, and the process id.
package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"time"
)

func main() {
	m := map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8}
	fmt.Print("map order:")
	for k := range m {
		fmt.Print(" ", k)
	}
	fmt.Println()

	a, b := make(chan string, 1), make(chan string, 1)
	fmt.Print("select:")
	for i := 0; i < 8; i++ {
		a <- "a"
		b <- "b"
		select {
		case v := <-a:
			fmt.Print(" ", v)
			<-b
		case v := <-b:
			fmt.Print(" ", v)
			<-a
		}
	}
	fmt.Println()

	fmt.Println("time:", time.Now().Format(time.RFC3339Nano))

	buf := make([]byte, 8)
	if _, err := rand.Read(buf); err != nil {
		panic(err)
	}
	fmt.Printf("crypto/rand: %x\n", buf)
	fmt.Println("pid:", os.Getpid())
}
