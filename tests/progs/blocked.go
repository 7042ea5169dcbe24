// blocked: main waits on a channel while a helper goroutine holds it up in
// a raw read of a pipe nobody writes: the runtime's deadlock detector
// cannot see it (the thread is in a syscall), so the process hangs.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		panic(err)
	}
	fmt.Println("blocking")
	c := make(chan int)
	go func() {
		buf := make([]byte, 1)
		syscall.Read(p[0], buf)
		c <- 1
	}()
	<-c
	os.Exit(0)
}
