// Inlined calls, for gorr's reader of the pclntab's inline trees
// (tests/unit/test_gobin.c, tests/e2e/test_replay.py): leaf is inlined
// into mid and both into work, so that no compiled copy of leaf or mid
// is linked.  "inline pcs" prints, for every byte of work's code, the
// function and file:line Go's own runtime gives it (runtime.FuncForPC
// names the innermost inlined call); "inline N" calls leaf N+1 times;
// "inline pick" sums pick(i, 3) for i < 8 (a compare, then its jump:
// tests/e2e/test_inject.py forces a GC between the two).
package main

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
)

func leaf(x int) int {
	return x*3 + len(os.Args) // leaf's line
}

func mid(x int) int {
	return leaf(x) ^ 5
}

// A generic function, inlined in Go 1.20+: Go prints its instantiation
// "main.atLeast[...]" (runtime/traceback.go funcNamePiecesForPrint).
func atLeast[T int | uint](a, b T) T {
	if a < b {
		return b
	}
	return a
}

// pick's first instruction is a compare and its second the jump on it.
//
//go:noinline
func pick(a, b int) int {
	if a > b {
		return a
	}
	return b
}

//go:noinline
func work(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += mid(i)
	}
	s += leaf(n)
	s = atLeast(s, 0)
	os.Stdout.WriteString("work done\n")
	return s
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "pcs" {
		entry := runtime.FuncForPC(reflect.ValueOf(work).Pointer()).Entry()
		for pc := entry; ; pc++ {
			f := runtime.FuncForPC(pc)
			if f == nil || f.Entry() != entry {
				break
			}
			file, line := f.FileLine(pc)
			fmt.Printf("%#x %s %s:%d\n", pc, f.Name(), file, line)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "pick" {
		s := 0
		for i := 0; i < 8; i++ {
			s = s*10 + pick(i, 3)
		}
		fmt.Println(s)
		return
	}
	n := 5
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	fmt.Println(work(n))
}
