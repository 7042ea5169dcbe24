// nilwalk: a loop that runs off the end of a list and faults on the nil
// pointer, recovered: its loads lie in a counting window (harness/core/
// count.h), so under `gorr run` the fault happens in gorr's trampoline
// and must reach Go's sigpanic at the program's own pc to be a panic that
// recover takes (tests/e2e/test_run.py).
package main

import "fmt"

type node struct {
	next *node
	v    int
}

// The recover is the looping function's own: Go's signal handler, given
// a pc it does not know, pretends the fault came from the caller (the
// return address at SP, runtime/signal_amd64.go preparePanic and
// shouldPushSigpanic), and walk's own deferred call would be skipped.
//
//go:noinline
func sum(n *node) (s int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	s = n.v
	for {
		n = n.next.next
	}
}

func main() {
	var head *node
	for i := 1; i <= 1001; i++ {
		head = &node{next: head, v: i}
	}
	total := 0
	for i := 0; i < 2000; i++ {
		_, err := sum(head)
		if err == nil {
			fmt.Println("no panic")
			return
		}
		total++
	}
	fmt.Println("recovered", total)
}
