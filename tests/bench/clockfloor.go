// clockfloor: what a clock read costs on this machine, natively, through
// the kernel's vDSO (time.Now: two reads, no syscall) and as a real
// clock_gettime syscall, which is what gorr record's vDSO must make for
// each read (the kernel's vDSO reads the TSC, and gorr traps the
// program's rdtsc: docs/ARCHITECTURE.md "rdtsc and rdtscp").  bench.py
// prints the floor this puts under a recording of pingpong.
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	n := 200000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	start := time.Now()
	for i := 0; i < n/2; i++ {
		_ = time.Now()
	}
	vdso := time.Since(start)
	var ts syscall.Timespec
	start = time.Now()
	for i := 0; i < n; i++ {
		syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	}
	sys := time.Since(start)
	fmt.Printf("%.1f %.1f\n", float64(vdso.Nanoseconds())/float64(n), float64(sys.Nanoseconds())/float64(n))
}
