// finishorder: eight goroutines with GOMAXPROCS=4 do unequal work and
// report, in the order they finish; natively the order changes from run
// to run.
package main

import (
	"fmt"
	"runtime"
	"strings"
)

//go:noinline
func spin(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s ^= i * 31
	}
	return s
}

func main() {
	runtime.GOMAXPROCS(4)
	done := make(chan int)
	for g := 0; g < 8; g++ {
		go func(g int) {
			spin(20000 + 3000*((g*5)%8))
			done <- g
		}(g)
	}
	var order []string
	for i := 0; i < 8; i++ {
		order = append(order, fmt.Sprint(<-done))
	}
	fmt.Println("finish order:", strings.Join(order, " "))
}
