// stackaddr: prints addresses that ASLR moves from run to run: a local
// variable's address on the OS thread's stack seen through a cgo-free
// syscall, and the address of the auxiliary vector's random bytes.
package main

import (
	"fmt"
	"os"
)

func main() {
	// /proc/self/maps lists the stack and vdso; with ASLR off the
	// [stack] mapping is at the same place every run.
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		panic(err)
	}
	for _, line := range splitLines(string(b)) {
		if len(line) > 0 && (contains(line, "[stack]") || contains(line, "[vdso]")) {
			fmt.Println(line[:25], line[len(line)-7:])
		}
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
