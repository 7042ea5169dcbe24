// debugme: a program for debugger sessions on a replay (tests/e2e/
// test_gdb.py): a function with arguments and a local that a breakpoint
// stops in, a global it writes (watchpoints), goroutines blocked on a
// channel, and output.
package main

import (
	"fmt"
	"os"
)

var sink = make(chan int)

// calls counts work's calls: a global for watchpoints.
var calls int

//go:noinline
func work(n int, name string) int {
	total := n * 3
	calls++
	if name == "last" {
		total++
	}
	return total
}

func main() {
	for i := 0; i < 3; i++ {
		go func(i int) { sink <- i }(i)
	}
	sum := 0
	for i := 0; i < 3; i++ {
		sum += work(<-sink, "item")
	}
	sum += work(sum, "last")
	fmt.Println("sum", sum)
	os.Exit(sum % 7)
}
