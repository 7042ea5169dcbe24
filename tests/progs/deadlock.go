// deadlock: main waits on a channel nobody sends to; the Go runtime
// reports "all goroutines are asleep - deadlock!".
package main

import "fmt"

func main() {
	fmt.Println("waiting")
	c := make(chan int)
	<-c
}
