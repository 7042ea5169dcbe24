// forever: computes and never ends, with no syscall in its loop: under
// gorr run its virtual time hardly moves, so only a wall-clock limit
// (gorr hunt --run-timeout) ends it.
package main

import "fmt"

func main() {
	x := uint64(1)
	for x != 0 {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 42 {
			break
		}
	}
	fmt.Println(x)
}
